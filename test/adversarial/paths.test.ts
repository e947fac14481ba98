/**
 * Paths and methods over a raw socket (RFC 9110 sections 4, 9; RFC 3986 section 6): every spelling of a
 * denied route that a router could dispatch to the same handler (case, trailing slash, percent-encoding,
 * dot segments, empty segments, matrix parameters, absolute-form, Unicode that folds to ASCII), odd
 * methods, method-override headers, pipelined requests on one connection. A DENY is never escaped: the
 * answer is the DENY's 403, a 400 for a target the guard cannot evaluate, or a refusal by Node itself;
 * the handler never runs. API mode (the guard judges the raw target) and the standard routes (the
 * router decodes parameters) both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStandardTenant } from '../fixtures.js';
import { capture, expectRefused, forbiddenStrings, optionsFor, ROWS, startProbe, useAdversarialEnv, type Probe } from './harness.js';
import { rawExchange, rawSend, type RawRequest } from './raw-http.js';

const emulator = useAdversarialEnv();
const USER = 'paths-user';
let token = '';

const api = (code: string, apiIdentifier: string, actions: string[], effect: 'ALLOW' | 'DENY' = 'ALLOW') => ({
  resourceCode: code,
  resourceType: 'API' as const,
  apiIdentifier,
  actions,
  effect,
});

beforeAll(async () => {
  seedStandardTenant(emulator());
  emulator().setGrants(USER, [
    api('servers', '/api/v1/servers', ['read']),
    api('server', '/api/v1/servers/:id', ['read']),
    api('server-start', '/api/v1/servers/:id/start', ['create']),
    api('server-9-start', '/api/v1/servers/9/start', ['*'], 'DENY'),
    api('admin', '/admin/*', ['read']),
    api('admin-keys', '/admin/keys', ['*'], 'DENY'),
  ]);
  token = await emulator().mintToken(USER);
});

/** 403: the DENY (or no grant); 400: the guard cannot evaluate the target; 'refused': any non-2xx answer or none (Node's own parser). */
type Outcome = 200 | 403 | 400 | 'refused';

const DENIED_START = '/api/v1/servers/9/start';

/** [label, method, raw target, outcome, extra header lines]. */
type PathCase = [string, string, string, Outcome, Array<[string, string]>?];

const API_CASES: PathCase[] = [
  ['control: a granted path', 'GET', '/api/v1/servers', 200],
  ['control: a granted parameter path', 'POST', '/api/v1/servers/1/start', 200],
  ['control: the wildcard grant', 'GET', '/admin/users', 200],
  ['the denied path', 'POST', DENIED_START, 403],
  ['upper case', 'POST', DENIED_START.toUpperCase(), 403],
  ['one letter in upper case', 'POST', '/api/v1/servers/9/Start', 403],
  ['a trailing slash', 'POST', `${DENIED_START}/`, 403],
  ['a query', 'POST', `${DENIED_START}?x=1&y=%2F`, 403],
  ['the id percent-encoded', 'POST', '/api/v1/servers/%39/start', 403],
  ['a letter percent-encoded in lower-case hex', 'POST', '/api/v1/servers/9/st%61rt', 403],
  ['an encoded space after the segment', 'POST', `${DENIED_START}%20`, 403],
  ['absolute-form', 'POST', `http://127.0.0.1${DENIED_START}`, 403],
  ['absolute-form naming another host', 'POST', `http://evil.example${DENIED_START}`, 403],
  ['HTTP/1.0', 'POST', DENIED_START, 403],
  ['X-HTTP-Method-Override: GET', 'POST', DENIED_START, 403, [['x-http-method-override', 'GET'], ['x-method-override', 'GET']]],
  ['a matrix parameter on the last segment', 'POST', `${DENIED_START};jsessionid=1`, 400],
  ['a matrix parameter on the id', 'POST', '/api/v1/servers/9;v=1/start', 400],
  ['an encoded slash', 'POST', '/api/v1/servers/9%2Fstart', 400],
  ['an encoded backslash', 'POST', '/api/v1/servers/9%5Cstart', 400],
  ['a dot-dot segment', 'POST', '/api/v1/servers/1/../9/start', 400],
  ['an encoded dot-dot segment', 'POST', '/api/v1/servers/1/%2e%2e/9/start', 400],
  ['a dot segment', 'POST', '/api/v1/servers/./9/start', 400],
  ['a trailing dot segment', 'POST', `${DENIED_START}/.`, 400],
  ['a leading double slash', 'POST', `/${DENIED_START}`, 400],
  ['an inner double slash', 'POST', '/api/v1//servers/9/start', 400],
  ['an encoded NUL', 'POST', `${DENIED_START}%00`, 400],
  ['bad percent-encoding', 'POST', '/api/v1/servers/9/start%zz', 400],
  ['absolute-form with userinfo', 'POST', `http://user@127.0.0.1${DENIED_START}`, 400],
  ['a raw backslash', 'POST', '/api/v1/servers/9\\start', 'refused'],
  ['a fragment', 'POST', `${DENIED_START}#x`, 'refused'],
  ['the asterisk-form', 'OPTIONS', '*', 'refused'],
  // the wildcard ALLOW with a DENY inside it
  ['the denied sub-path', 'GET', '/admin/keys', 403],
  ['the denied sub-path in upper case', 'GET', '/admin/KEYS', 403],
  ['the denied sub-path with %4B for K', 'GET', '/admin/%4Beys', 403],
  ['the denied sub-path with %65 for e', 'GET', '/admin/k%65ys', 403],
  ['the denied sub-path with the Kelvin sign (U+212A) encoded', 'GET', '/admin/%E2%84%AAeys', 'refused'],
  ['the denied sub-path with the Kelvin sign in upper case hex and a slash', 'GET', '/ADMIN/%e2%84%aaEYS/', 'refused'],
  ['the denied sub-path with the Kelvin sign as raw UTF-8', 'GET', '/admin/\u00e2\u0084\u00aaeys', 'refused'],
  ['HEAD on the denied sub-path', 'HEAD', '/admin/keys', 403],
  // methods
  ['an unmapped method (a 403, or no route)', 'PROPFIND', '/admin/keys', 'refused'],
  ['OPTIONS on a granted path', 'OPTIONS', '/admin/users', 403],
  ['a method in lower case', 'post', DENIED_START, 'refused'],
  ['an unknown method', 'FOO', DENIED_START, 'refused'],
  ['CONNECT', 'CONNECT', '127.0.0.1:80', 'refused'],
];

function requestOf(method: string, target: string, extra: Array<[string, string]> = [], label = ''): RawRequest {
  return { method, target, headers: [['authorization', `Bearer ${token}`], ...extra], version: label === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1' };
}

function expectOutcome(probe: Probe, answer: { status: number; headers: Record<string, unknown>; body: string }, outcome: Outcome, method: string): void {
  const forbidden = forbiddenStrings(emulator(), token);
  if (outcome === 200) {
    expect(answer.status, answer.body).toBe(200);
    expect(capture.handled).toBe(1);
  } else if (outcome === 'refused') {
    expect(answer.status === 0 || answer.status >= 400, `status ${answer.status}`).toBe(true);
    expect(capture.handled).toBe(0);
    expect(answer.body).not.toContain(token);
  } else {
    expectRefused(emulator(), probe, answer as never, {
      status: outcome,
      code: outcome === 403 ? 'ERR_PERMISSION_DENIED' : 'ERR_INVALID_REQUEST',
      challenge: outcome === 403 ? 'Bearer realm="api", error="insufficient_scope"' : /^Bearer realm="api", error="invalid_request"/,
      upstream: { max: 1 },
      forbidden,
    });
    if (method === 'HEAD') expect(answer.body).toBe('');
  }
}

describe.each(ROWS)('$name API mode', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe(row, { options: optionsFor(emulator()), api: {} });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(API_CASES)('%s: %s %s', async (label, method, target, outcome, extra) => {
    const answer = await rawSend(probe.port, requestOf(method, target, extra, label));
    expectOutcome(probe, answer, outcome, method);
  });

  it('a target beyond the server header limit is refused by Node', async () => {
    const answer = await rawSend(probe.port, requestOf('POST', `${DENIED_START}/${'a'.repeat(20_000)}`));
    expect(answer.status === 0 || answer.status >= 400).toBe(true);
    expect(capture.handled).toBe(0);
  });

  it('Transfer-Encoding with Content-Length (smuggling) never reaches the handler', async () => {
    const answer = await rawSend(probe.port, {
      ...requestOf('POST', DENIED_START, [['transfer-encoding', 'chunked']]),
      body: '0\r\n\r\nGET /admin/users HTTP/1.1\r\nhost: x\r\n\r\n',
    });
    expect(answer.status === 0 || answer.status >= 400).toBe(true);
    expect(capture.handled).toBe(0);
  });

  it('pipelined on one connection: an allowed request, then a denied one, then one without a token', async () => {
    const answers = await rawExchange(probe.port, [
      requestOf('GET', '/api/v1/servers'),
      requestOf('POST', DENIED_START),
      { method: 'GET', target: '/api/v1/servers' },
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 403, 401]);
    expect(capture.handled).toBe(1);
  });
});

/** Standard routes: the router decodes the id and the resource function builds `disk:<id>`. */
const STANDARD_CASES: PathCase[] = [
  ['the denied disk', 'DELETE', '/api/v1/disks/9', 403],
  ['the id percent-encoded', 'DELETE', '/api/v1/disks/%39', 403],
  ['a query', 'DELETE', '/api/v1/disks/9?force=1', 403],
  ['absolute-form', 'DELETE', 'http://127.0.0.1/api/v1/disks/9', 403],
  ['upper case (a 403, or no route)', 'DELETE', '/API/V1/DISKS/9', 'refused'],
  ['a trailing slash (a 403, or no route)', 'DELETE', '/api/v1/disks/9/', 'refused'],
  ['a dot-dot segment (a 403, or no route)', 'DELETE', '/api/v1/disks/8/../9', 'refused'],
  ['POST with X-HTTP-Method-Override: DELETE', 'POST', '/api/v1/disks/9', 'refused', [['x-http-method-override', 'DELETE']]],
];

describe.each(ROWS)('$name standard routes', (row) => {
  let probe: Probe;
  beforeAll(async () => {
    token = token || (await emulator().mintToken(USER));
    probe = await startProbe(row, { options: optionsFor(emulator()) });
  });
  afterAll(async () => {
    await probe.close();
  });

  it.each(STANDARD_CASES)('%s: %s %s', async (_label, method, target, outcome, extra) => {
    const alice = await emulator().mintToken('alice');
    const answer = await rawSend(probe.port, { method, target, headers: [['authorization', `Bearer ${alice}`], ...(extra ?? [])] });
    if (outcome === 'refused') {
      expect([403, 404, 405]).toContain(answer.status);
      expect(capture.handled).toBe(0);
      return;
    }
    expectRefused(emulator(), probe, answer, {
      status: 403,
      code: 'ERR_PERMISSION_DENIED',
      challenge: 'Bearer realm="api", error="insufficient_scope"',
      upstream: { max: 1 },
      forbidden: forbiddenStrings(emulator(), alice),
    });
  });
});
