/**
 * HTTP/2 (cleartext, prior knowledge) against the adapters whose framework serves it: Koa 3 and 2 on
 * `node:http2`, Fastify 5 with `http2: true`, Nest on Fastify with it (h2-apps.ts). Header blocks are
 * written byte for byte (raw-h2.ts). The rule: what reaches the guard over HTTP/2 gets the answer the
 * same request gets over HTTP/1.1 (status, challenge, content type, Retry-After, Cache-Control, body),
 * and nothing HTTP/1.1 refuses is let through, except where Node's HTTP/2 layer (nghttp2) itself refuses
 * or drops what HTTP/1.1 would carry: those are pinned here and documented in docs/security.md.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparable, type Answer } from '../conformance/http.js';
import { seedStandardTenant } from '../fixtures.js';
import { H2_PAIRS, type H2Pair } from './h2-apps.js';
import { ANSWER_MODES, capture, expectUpstream, optionsFor, RESOURCES, startProbe, useAdversarialEnv, type OptionOverrides, type Probe } from './harness.js';
import { h2Send, type H2Answer, type RawField } from './raw-h2.js';
import { rawSend } from './raw-http.js';

const emulator = useAdversarialEnv();
const USER = 'h2-user';
let alice = '';
let user = '';

const api = (code: string, apiIdentifier: string, actions: string[], effect: 'ALLOW' | 'DENY' = 'ALLOW') => ({ resourceCode: code, resourceType: 'API' as const, apiIdentifier, actions, effect });

function seed(): void {
  seedStandardTenant(emulator());
  emulator().setGrants(USER, [
    api('servers', '/api/v1/servers', ['read']),
    api('server-start', '/api/v1/servers/:id/start', ['create']),
    api('server-9-start', '/api/v1/servers/9/start', ['*'], 'DENY'),
    api('admin', '/admin/*', ['read']),
    api('admin-keys', '/admin/keys', ['*'], 'DENY'),
  ]);
}

beforeAll(async () => {
  seed();
  alice = await emulator().mintToken('alice');
  user = await emulator().mintToken(USER);
});

/** One request as both protocols carry it: method, target (`:path`), header fields in order. */
interface Exchange {
  method: string;
  target: string;
  fields?: RawField[];
}

const h2Fields = ({ method, target, fields = [] }: Exchange): RawField[] => [[':method', method], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', target], ...fields];

/** The answer and what the case did: handler runs and upstream calls. */
interface Seen {
  answer: Answer;
  handled: number;
  upstream: number;
}

async function observe(send: () => Promise<Answer | H2Answer>): Promise<Seen> {
  capture.handled = 0;
  emulator().resetCalls();
  const answer = await send();
  return { answer: answer as Answer, handled: capture.handled, upstream: emulator().callCount(RESOURCES) };
}

const overH1 = (probe: Probe, exchange: Exchange) => observe(() => rawSend(probe.port, { method: exchange.method, target: exchange.target, headers: exchange.fields ?? [] }));
const overH2 = (probe: Probe, exchange: Exchange, trailers?: RawField[]) =>
  observe(() => h2Send(probe.port, { headers: h2Fields(exchange), ...(trailers ? { trailers, body: '' } : {}) }));

/** The HTTP/2 answer is the HTTP/1.1 one, and the handler ran (and GenAuth was asked) as often. */
function expectSame(h1: Seen, h2: Seen): void {
  expect(h2.answer.status, 'answered over HTTP/2').not.toBe(0);
  expect(comparable(h2.answer)).toEqual(comparable(h1.answer));
  expect(h2.handled, 'handler runs').toBe(h1.handled);
  expect(h2.upstream, 'upstream calls').toBe(h1.upstream);
}

/** The pair's apps, standard or API mode, over each protocol, with `cache: false` (so every decision asks GenAuth). */
function useProbes(pair: H2Pair, mode: { api?: boolean; passErrors?: boolean; overrides?: OptionOverrides } = {}): () => { h1: Probe; h2: Probe } {
  let probes: { h1: Probe; h2: Probe } | undefined;
  beforeAll(async () => {
    const options = optionsFor(emulator(), { cache: false, ...mode.overrides });
    const start = (row: H2Pair['h1']) => startProbe(row, { options, passErrors: mode.passErrors ?? false, ...(mode.api ? { api: {} } : {}) });
    probes = { h1: await start(pair.h1), h2: await start(pair.h2) };
  });
  afterAll(async () => {
    await probes?.h1.close();
    await probes?.h2.close();
  });
  return () => {
    if (probes === undefined) throw new Error('started in beforeAll');
    return probes;
  };
}

const REPORTS = '/api/v1/reports';
const bearer = (token: string): RawField => ['authorization', `Bearer ${token}`];

/** [label, request for alice's token t]: the token's transport on a standard route. */
const TRANSPORT: Array<[string, (t: string) => Exchange]> = [
  ['Bearer and one space', (t) => ({ method: 'GET', target: REPORTS, fields: [bearer(t)] })],
  ['the scheme in lower case', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', `bearer ${t}`]] })],
  ['several spaces after the scheme', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', `Bearer    ${t}`]] })],
  ['no Authorization field', () => ({ method: 'GET', target: REPORTS })],
  ['an empty Authorization field', () => ({ method: 'GET', target: REPORTS, fields: [['authorization', '']] })],
  ['HEAD without a token', () => ({ method: 'HEAD', target: REPORTS })],
  ['two Authorization fields with the same token', (t) => ({ method: 'GET', target: REPORTS, fields: [bearer(t), bearer(t)] })],
  ['two Authorization fields, junk first', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', 'Bearer junk'], bearer(t)] })],
  ['two Authorization fields apart, a cookie between', (t) => ({ method: 'GET', target: REPORTS, fields: [bearer(t), ['cookie', 'a=1'], ['authorization', 'Basic YWxpY2U6c2VjcmV0']] })],
  ['the scheme alone', () => ({ method: 'GET', target: REPORTS, fields: [['authorization', 'Bearer']] })],
  ['a tab instead of the space', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', `Bearer\t${t}`]] })],
  ['a byte outside ASCII after the token', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', `Bearer ${t}\u00e9`]] })],
  ['padding after the token', (t) => ({ method: 'GET', target: REPORTS, fields: [['authorization', `Bearer ${t}==`]] })],
  ['Basic credentials', () => ({ method: 'GET', target: REPORTS, fields: [['authorization', 'Basic YWxpY2U6c2VjcmV0']] })],
  ['the token in cookies split over two fields', (t) => ({ method: 'GET', target: REPORTS, fields: [['cookie', 'a=1'], ['cookie', `access_token=${t}`]] })],
  ['the token in Proxy-Authorization', (t) => ({ method: 'GET', target: REPORTS, fields: [['proxy-authorization', `Bearer ${t}`]] })],
  ['the token in X-Access-Token', (t) => ({ method: 'GET', target: REPORTS, fields: [['x-access-token', t]] })],
  ['the token in the query', (t) => ({ method: 'GET', target: `${REPORTS}?access_token=${t}` })],
  ['a token of another user without the grant', () => ({ method: 'GET', target: REPORTS, fields: [bearer(user)] })],
  ['the DENY on disk 9', (t) => ({ method: 'DELETE', target: '/api/v1/disks/9', fields: [bearer(t)] })],
  ['the DENY on disk 9, the id percent-encoded', (t) => ({ method: 'DELETE', target: '/api/v1/disks/%39', fields: [bearer(t)] })],
  ['disk 8 (allowed)', (t) => ({ method: 'DELETE', target: '/api/v1/disks/8', fields: [bearer(t)] })],
  ['server 2 (no grant)', (t) => ({ method: 'POST', target: '/api/v1/servers/2/start', fields: [bearer(t)] })],
  ['authenticate() only', (t) => ({ method: 'GET', target: '/api/v1/me', fields: [bearer(t)] })],
];

describe.each(ANSWER_MODES)('$mode', ({ passErrors }) => {
  describe.each(H2_PAIRS)('$name standard routes: the answer over HTTP/1.1', (pair) => {
    const probes = useProbes(pair, { passErrors });

    it.each(TRANSPORT)('%s', async (_label, build) => {
      const exchange = build(alice);
      if (exchange.method === 'HEAD' && !pair.answersHead) return;
      expectSame(await overH1(probes().h1, exchange), await overH2(probes().h2, exchange));
    });
  });
});

/** [label, method, `:path`]: API mode, judged by the target the router dispatches. */
const API_CASES: Array<[string, string, string]> = [
  ['a granted path', 'GET', '/api/v1/servers'],
  ['a granted parameter path', 'POST', '/api/v1/servers/1/start'],
  ['the wildcard grant', 'GET', '/admin/users'],
  ['the denied path', 'POST', '/api/v1/servers/9/start'],
  ['upper case', 'POST', '/API/V1/SERVERS/9/START'],
  ['a trailing slash', 'POST', '/api/v1/servers/9/start/'],
  ['a query', 'POST', '/api/v1/servers/9/start?x=1&y=%2F'],
  ['the id percent-encoded', 'POST', '/api/v1/servers/%39/start'],
  ['a letter percent-encoded', 'POST', '/api/v1/servers/9/st%61rt'],
  ['the denied sub-path with %4B for K', 'GET', '/admin/%4Beys'],
  ['HEAD on the denied sub-path', 'HEAD', '/admin/keys'],
  ['OPTIONS on a granted path', 'OPTIONS', '/admin/users'],
  ['an unmapped method', 'PROPFIND', '/admin/users'],
  ['a matrix parameter', 'POST', '/api/v1/servers/9/start;jsessionid=1'],
  ['an encoded slash', 'POST', '/api/v1/servers/9%2Fstart'],
  ['a dot-dot segment', 'POST', '/api/v1/servers/1/../9/start'],
  ['an encoded dot-dot segment', 'POST', '/api/v1/servers/1/%2e%2e/9/start'],
  ['a leading double slash', 'POST', '//api/v1/servers/9/start'],
  ['an encoded NUL', 'POST', '/api/v1/servers/9/start%00'],
  ['bad percent-encoding', 'POST', '/api/v1/servers/9/start%zz'],
  ['bad percent-encoding in a parameter', 'POST', '/api/v1/servers/%zz/start'],
  ['a fragment', 'POST', '/api/v1/servers/9/start#x'],
  ['a raw backslash', 'POST', '/api/v1/servers/9\\start'],
  ['the asterisk-form', 'OPTIONS', '*'],
];

describe.each(H2_PAIRS)('$name API mode: the answer over HTTP/1.1', (pair) => {
  const probes = useProbes(pair, { api: true });

  it.each(API_CASES)('%s: %s %s', async (_label, method, target) => {
    if (method === 'HEAD' && !pair.answersHead) return;
    const exchange = { method, target, fields: [bearer(user)] };
    expectSame(await overH1(probes().h1, exchange), await overH2(probes().h2, exchange));
  });

  it('no token: the same 401 on a denied path, the same 400 on a path the guard cannot evaluate', async () => {
    for (const target of ['/admin/keys', '/admin//keys']) {
      const exchange = { method: 'GET', target };
      expectSame(await overH1(probes().h1, exchange), await overH2(probes().h2, exchange));
    }
  });

  // Node's HTTP/1.1 parser refuses a method that is not upper case (400); HTTP/2 carries any token.
  // The guard judges it as its upper-case form, as the routers that dispatch it do (@koa/router);
  // Fastify's router dispatches it nowhere (404). Either way, never more than the upper-case method.
  it.each([
    ['post', '/api/v1/servers/9/start', 'POST'],
    ['get', '/admin/keys', 'GET'],
    ['head', '/admin/keys', 'HEAD'],
    ['delete', '/api/v1/servers', 'DELETE'],
    ['get', '/api/v1/servers', 'GET'],
  ])('a method in lower case (%s %s) gets the upper-case answer, or no route', async (method, target, upper) => {
    if (upper === 'HEAD' && !pair.answersHead) return;
    const lower = await overH2(probes().h2, { method, target, fields: [bearer(user)] });
    const reference = await overH2(probes().h2, { method: upper, target, fields: [bearer(user)] });
    if (lower.answer.status === 404) expect(lower.handled).toBe(0);
    else expectSame(reference, lower);
  });
});

describe.each(H2_PAIRS)('$name: pseudo-headers and fields that Node refuses over HTTP/2 never reach a handler', (pair) => {
  const standard = useProbes(pair);
  const apiMode = useProbes(pair, { api: true });

  /** [label, header block]: a stream reset (PROTOCOL_ERROR) by nghttp2 before any request exists. */
  const RESET: Array<[string, (t: string) => RawField[]]> = [
    ['`:path` in absolute form', (t) => [[':method', 'POST'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', 'http://127.0.0.1/api/v1/servers/9/start'], bearer(t)]],
    ['`:path` `*` on GET', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '*'], bearer(t)]],
    ['`:path` without its leading slash', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', 'admin/keys'], bearer(t)]],
    ['`:path` missing', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], bearer(t)]],
    ['`:path` twice', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '/admin/users'], [':path', '/admin/keys'], bearer(t)]],
    ['`:method` missing', (t) => [[':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '/admin/keys'], bearer(t)]],
    ['neither `:authority` nor host', (t) => [[':method', 'GET'], [':scheme', 'http'], [':path', '/admin/keys'], bearer(t)]],
    ['a pseudo-header after a field', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], bearer(t), [':path', '/admin/keys']]],
    ['an unknown pseudo-header', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '/admin/keys'], [':x', '1'], bearer(t)]],
    ['extended CONNECT (`:protocol`, not enabled)', (t) => [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '/admin/keys'], bearer(t)]],
    ['`Authorization` with a capital letter', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', REPORTS], ['Authorization', `Bearer ${t}`]]],
    ['a connection-specific field', (t) => [[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', REPORTS], bearer(t), ['connection', 'close']]],
  ];

  it.each(RESET)('%s: the stream is reset', async (_label, build) => {
    for (const probe of [standard().h2, apiMode().h2]) {
      const seen = await observe(() => h2Send(probe.port, { headers: build(probe === standard().h2 ? alice : user) }));
      expect(seen.answer.status).toBe(0);
      expect((seen.answer as H2Answer).refused).toBe(1); // PROTOCOL_ERROR
      expect(seen.handled).toBe(0);
      expect(seen.upstream).toBe(0);
    }
  });

  it('CONNECT (`:authority` only) is answered 405 by Node without a `connect` listener; no handler runs', async () => {
    for (const probe of [standard().h2, apiMode().h2]) {
      const seen = await observe(() => h2Send(probe.port, { headers: [[':method', 'CONNECT'], [':authority', '127.0.0.1:80'], bearer(probe === standard().h2 ? alice : user)] }));
      expect(seen.answer.status).toBe(405);
      expect(seen.handled).toBe(0);
      expect(seen.upstream).toBe(0);
    }
  });

  it('host without `:authority`: judged by `:path` as any request (the host never counts)', async () => {
    const exchange = { method: 'GET', target: '/admin/keys', fields: [bearer(user)] };
    const reference = await overH2(apiMode().h2, exchange);
    const seen = await observe(() =>
      h2Send(apiMode().h2.port, { headers: [[':method', 'GET'], [':scheme', 'http'], [':path', '/admin/keys'], ['host', 'admin.example'], bearer(user)] }),
    );
    expect(reference.answer.status).toBe(403);
    expectSame(reference, seen);
  });

  // nghttp2 drops (RFC 9113 section 8.2.1) a field whose value has leading or trailing whitespace or a
  // CR, LF or NUL, or whose name has a character no name may have: the guard never sees it. HTTP/1.1
  // trims the whitespace and accepts `Bearer <t> `; over HTTP/2 the field is absent.
  it.each([
    ['a space after the token', (t: string) => `Bearer ${t} `],
    ['a space before the scheme', (t: string) => ` Bearer ${t}`],
    ['a CR LF inside', (t: string) => `Bearer ${t}\r\nx: y`],
  ])('an Authorization field with %s is dropped by Node: 401, no token', async (_label, value) => {
    const seen = await overH2(standard().h2, { method: 'GET', target: REPORTS, fields: [['authorization', value(alice)]] });
    expect(seen.answer.status).toBe(401);
    expect(JSON.parse(seen.answer.body)).toMatchObject({ code: 'ERR_MISSING_TOKEN' });
    expect(seen.handled).toBe(0);
  });

  it('a dropped Authorization field beside a valid one is not seen: the valid one alone is judged (no repeat)', async () => {
    const pairOfFields: RawField[] = [['authorization', `Bearer ${user} `], bearer(alice)];
    const seen = await overH2(standard().h2, { method: 'GET', target: REPORTS, fields: pairOfFields });
    const alone = await overH2(standard().h2, { method: 'GET', target: REPORTS, fields: [bearer(alice)] });
    expectSame(alone, seen);
    // Over HTTP/1.1 both fields arrive: a repeat, 400.
    const h1 = await overH1(standard().h1, { method: 'GET', target: REPORTS, fields: pairOfFields });
    expect(h1.answer.status).toBe(400);
  });
});

describe.each(H2_PAIRS)('$name: trailers carry no token', (pair) => {
  const probes = useProbes(pair);

  it('a token in the trailers only: the 401 of no token', async () => {
    const h1 = await overH1(probes().h1, { method: 'GET', target: REPORTS });
    const h2 = await overH2(probes().h2, { method: 'GET', target: REPORTS }, [bearer(alice)]);
    expectSame(h1, h2);
  });

  it("another user's token in the trailers changes nothing: the header's token is judged", async () => {
    const exchange = { method: 'GET', target: REPORTS, fields: [bearer(user)] };
    const h1 = await overH1(probes().h1, exchange);
    const h2 = await overH2(probes().h2, exchange, [bearer(alice)]);
    expect(h1.answer.status).toBe(403);
    expectSame(h1, h2);
  });
});

/** A `getToken` reading an `access_token` cookie from the request's joined `cookie` header (Koa's ctx, Fastify's request). */
function cookieToken(request: unknown): string | undefined {
  const header = (request as { headers: IncomingHttpHeaders }).headers.cookie ?? '';
  const found = header.split(/; */).find((pair) => pair.startsWith('access_token='));
  return found?.slice('access_token='.length);
}

describe.each(H2_PAIRS)('$name: a token from a cookie (getToken), the cookie split over several fields', (pair) => {
  const probes = useProbes(pair, { overrides: { getToken: cookieToken } });

  it.each([
    ['one field', (t: string): RawField[] => [['cookie', `a=1; access_token=${t}`]]],
    ['two fields', (t: string): RawField[] => [['cookie', 'a=1'], ['cookie', `access_token=${t}`]]],
    ['three fields, the token in the last', (t: string): RawField[] => [['cookie', 'a=1'], ['cookie', 'b=2'], ['cookie', `access_token=${t}`]]],
  ])('%s: the same answer as one Cookie header over HTTP/1.1', async (_label, fields) => {
    const h1 = await overH1(probes().h1, { method: 'GET', target: REPORTS, fields: [['cookie', `a=1; access_token=${alice}`]] });
    expect(h1.answer.status).toBe(200);
    expectSame(h1, await overH2(probes().h2, { method: 'GET', target: REPORTS, fields: fields(alice) }));
  });

  it('a denied user in a split cookie: the same 403', async () => {
    const h1 = await overH1(probes().h1, { method: 'GET', target: REPORTS, fields: [['cookie', `a=1; access_token=${user}`]] });
    expect(h1.answer.status).toBe(403);
    expectSame(h1, await overH2(probes().h2, { method: 'GET', target: REPORTS, fields: [['cookie', 'a=1'], ['cookie', `access_token=${user}`]] }));
  });
});

describe.each(H2_PAIRS)('$name: upstream outages are the same 503', (pair) => {
  const standard = useProbes(pair, { overrides: { genauth: { retries: 0 } } });
  const apiMode = useProbes(pair, { api: true, overrides: { genauth: { retries: 0 } } });

  it.each([
    ['GenAuth answers 503 with Retry-After 60', { kind: 'status', status: 503, retryAfter: 60, path: RESOURCES }],
    ['GenAuth answers 500', { kind: 'status', status: 500, path: RESOURCES }],
    ['GenAuth drops the connection', { kind: 'drop', path: RESOURCES }],
  ] as const)('%s: standard route and API mode', async (_label, fault) => {
    for (const [probes, token, target] of [
      [standard(), alice, REPORTS],
      [apiMode(), user, '/api/v1/servers'],
    ] as const) {
      emulator().fault({ ...fault });
      const exchange = { method: 'GET', target, fields: [bearer(token)] };
      const h1 = await overH1(probes.h1, exchange);
      const h2 = await overH2(probes.h2, exchange);
      emulator().clearFaults();
      expect(h1.answer.status).toBe(503);
      expect(Number(h2.answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expectSame(h1, h2);
    }
  });

  it('the keys unavailable: a fresh guard answers 503 on both', async () => {
    const options = optionsFor(emulator(), { cache: false });
    const h1 = await startProbe(pair.h1, { options });
    const h2 = await startProbe(pair.h2, { options });
    try {
      emulator().setJwksAvailable(false);
      const exchange = { method: 'GET', target: REPORTS, fields: [bearer(alice)] };
      const one = await overH1(h1, exchange);
      const two = await overH2(h2, exchange);
      expect(one.answer.status).toBe(503);
      expectSame(one, two);
      expectUpstream(emulator(), 0);
    } finally {
      emulator().setJwksAvailable(true);
      await h1.close();
      await h2.close();
    }
  });
});
