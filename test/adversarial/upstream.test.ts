/**
 * GenAuth failing in every way a network peer can: refused, reset mid-body, a slow-loris body, a
 * hang, 429 with and without Retry-After, 5xx, error bodies, malformed, encoded and oversized bodies,
 * redirects, a failing token endpoint. Each is a 503 with Retry-After (never 401 or 403), after the
 * expected number of upstream calls (one retry here), and no upstream text or credential shows in the
 * answer, the logs or the error passed on. Run with the adapter answering and with `passErrors`.
 *
 * Cases that need a clean client (429 back-off, the management token, other options) start their own
 * app; the others share one per row, each with its own user so no cached state carries over.
 */
import { gzipSync } from 'node:zlib';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/testing/index.js';
import { seedStandardTenant } from '../fixtures.js';
import {
  ANSWER_MODES,
  bearer,
  capture,
  expectAllowed,
  expectRefused,
  forbiddenStrings,
  optionsFor,
  RESOURCES,
  retryAfterOf,
  ROWS,
  send,
  startProbe,
  useAdversarialEnv,
  type AdapterRow,
  type OptionOverrides,
  type Probe,
} from './harness.js';

const emulator = useAdversarialEnv();
const TOKEN_PATH = '/api/v3/get-management-token';
/** Text only the upstream knows: it must never reach a client, a log or an error passed on. */
const UPSTREAM_TEXT = 'upstream-internal-detail-7f3a';
/** The emulator's own upstream messages. */
const EMULATOR_TEXTS = ['emulated HTTP', 'emulated error', '您的请求已超过最大数量限制', 'no route'];

/** An answer granting `reports:Read` on `reports`, as the raw peers below send it. */
const GRANTS_BODY = JSON.stringify({ statusCode: 200, message: '', data: { totalCount: 1, list: [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' }] } });

let closedPort = 0;
/**
 * Peers that answer what is not HTTP, with upstream text in it: undici's parser error keeps the bytes
 * it could not parse, which must not ride along on the error passed on or logged.
 */
const NOT_HTTP: Record<string, string> = {
  'a status line that is not HTTP': `XTTP/1.1 200 OK ${UPSTREAM_TEXT}\r\n\r\n`,
  'a chunk size that is not hexadecimal': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz ${UPSTREAM_TEXT}\r\n`,
  // Cut short after a whole JSON answer granting the user: what came parses, but the answer never ended.
  'a chunked body cut short before its last chunk': `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${GRANTS_BODY.length.toString(16)}\r\n${GRANTS_BODY}\r\n`,
  'a body shorter than its Content-Length': `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${GRANTS_BODY.length + 10}\r\n\r\n${GRANTS_BODY}`,
};
const notHttpPorts: Record<string, number> = {};
const notHttpServers: Server[] = [];
beforeAll(async () => {
  for (const [label, raw] of Object.entries(NOT_HTTP)) {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(raw));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    notHttpPorts[label] = (server.address() as AddressInfo).port;
    notHttpServers.push(server);
  }
});
afterAll(async () => {
  await Promise.all(notHttpServers.map((server) => new Promise((resolve) => server.close(resolve))));
});
beforeAll(async () => {
  seedStandardTenant(emulator());
  // A port nothing listens on: connections are refused.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
});

/** Options of every app here: one retry. */
const BASE: OptionOverrides = { genauth: { retries: 1, timeout: 3000 } };
/** The deadline of the cases that wait it out. */
const SHORT: OptionOverrides = { genauth: { timeout: 150 } };

const grantsBody = JSON.stringify({ statusCode: 200, message: '', data: { totalCount: 1, list: [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' }] } });
const respond = (status: number, body: string | Buffer, headers: Record<string, string> = {}): Fault => ({ kind: 'respond', status, body, headers, path: RESOURCES });
/** `body` with a byte that is never UTF-8 (0xFF) in its `message`: the JSON is whole, its text is not UTF-8. */
const notUtf8 = (body: string) => {
  const [before, after] = body.split('"message":""');
  return Buffer.concat([Buffer.from(`${before}"message":"`), Buffer.from([0xff]), Buffer.from(`"${after}`)]);
};

interface Case {
  label: string;
  faults: Fault[];
  /** Calls to get-user-authorized-resources (at most, for cases cut short by the deadline). */
  upstream: number | { max: number };
  /** Expected Retry-After, when the upstream set it. */
  retryAfter?: string;
  /**
   * Own app with these option overrides (merged over BASE). Every case that counts a retry has one:
   * the retry budget of a guard that has just seen failures rightly makes no retry.
   */
  own?: OptionOverrides;
  /** Make one good call on the own app first, so it holds a management token. */
  warm?: boolean;
  /**
   * Run only with the adapter answering: cases that wait out a deadline or a back-off and pass on the
   * same error as a faster case of the same kind.
   */
  answerOnly?: boolean;
  /** Also check after the answer. */
  also?(): void;
}

const CASES: Case[] = [
  { label: 'connection refused', faults: [], upstream: 0, own: { genauth: { host: `http://127.0.0.1:${0}` } } },
  { label: 'the connection reset mid-body', faults: [{ kind: 'drop-mid-body', bytes: 20, path: RESOURCES }], upstream: 2, own: {} },
  { label: 'the connection dropped before any answer', faults: [{ kind: 'drop', path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  { label: 'a slow-loris body (1 byte per 50 ms)', faults: [{ kind: 'slow-body', chunkBytes: 1, intervalMs: 50, path: RESOURCES }], upstream: { max: 1 }, own: SHORT, warm: true, answerOnly: true },
  { label: 'a hang', faults: [{ kind: 'hang', path: RESOURCES }], upstream: { max: 1 }, own: SHORT, warm: true, answerOnly: true },
  { label: 'HTTP 429 with Retry-After beyond the deadline', faults: [{ kind: 'status', status: 429, retryAfter: 30, path: RESOURCES }], upstream: 1, retryAfter: '30', own: {} },
  { label: 'HTTP 429 without Retry-After', faults: [{ kind: 'status', status: 429, path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  { label: 'HTTP 429 with Retry-After as an HTTP date', faults: [respond(429, '{}', { 'retry-after': new Date(Date.now() + 120_000).toUTCString() })], upstream: 1, own: {} },
  { label: 'HTTP 429 with an unreadable Retry-After', faults: [respond(429, '{}', { 'retry-after': 'soon' })], upstream: 2, own: {}, answerOnly: true },
  { label: 'body statusCode 429 under HTTP 200', faults: [{ kind: 'body-error', statusCode: 429, path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  { label: 'HTTP 500', faults: [{ kind: 'status', status: 500, path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  { label: 'HTTP 502', faults: [{ kind: 'status', status: 502, path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  { label: 'HTTP 503 with Retry-After 60', faults: [{ kind: 'status', status: 503, retryAfter: 60, path: RESOURCES }], upstream: 1, retryAfter: '60' },
  { label: 'HTTP 504', faults: [{ kind: 'status', status: 504, path: RESOURCES }], upstream: 2, own: {}, answerOnly: true },
  {
    label: 'HTTP 401 from GenAuth (never a 401 to the client)',
    faults: [respond(401, `{"statusCode":401,"message":"${UPSTREAM_TEXT}"}`)],
    upstream: 2, // a refused token: the cached management token is replaced once
    own: {},
    warm: true,
  },
  {
    label: 'HTTP 403 from GenAuth (never a 403 to the client)',
    faults: [respond(403, `{"statusCode":403,"message":"${UPSTREAM_TEXT}"}`)],
    upstream: 2, // the credentials refused: the cached management token is replaced once
    own: {},
    warm: true,
    also() {
      expect(capture.lines.some((line) => line.includes('genauth-guard') && line.includes('refused') && line.includes('HTTP 403'))).toBe(true);
    },
  },
  { label: 'HTTP 404', faults: [respond(404, `{"statusCode":404,"message":"${UPSTREAM_TEXT}"}`)], upstream: 1 },
  { label: 'HTTP 500 with an HTML page of upstream text', faults: [respond(500, `<html><pre>${UPSTREAM_TEXT}</pre></html>`, { 'content-type': 'text/html' })], upstream: 2, own: {} },
  { label: 'a body error 500 with upstream text', faults: [{ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: RESOURCES }], upstream: 2, own: {} },
  { label: 'a body error 400 with upstream text', faults: [{ kind: 'body-error', statusCode: 400, message: UPSTREAM_TEXT, path: RESOURCES }], upstream: 1 },
  {
    label: 'a body error 403: the credentials refused',
    faults: [{ kind: 'body-error', statusCode: 403, apiCode: 1301, message: UPSTREAM_TEXT, path: RESOURCES }],
    upstream: 2, // the cached management token is replaced once
    own: {},
    warm: true,
    also() {
      // The operator is told, without the secret, the token or the upstream text.
      expect(capture.lines.some((line) => line.includes('genauth-guard') && line.includes('refused'))).toBe(true);
    },
  },
  { label: 'a body that is not JSON', faults: [respond(200, `${UPSTREAM_TEXT} is not json`)], upstream: 1 },
  { label: 'an HTML page under 200', faults: [respond(200, `<html>${UPSTREAM_TEXT}</html>`, { 'content-type': 'text/html' })], upstream: 1 },
  { label: 'truncated JSON', faults: [respond(200, grantsBody.slice(0, 60))], upstream: 1 },
  { label: 'an empty body', faults: [respond(200, '')], upstream: 1 },
  // Not UTF-8 (RFC 8259 JSON is): a lossy decoding would turn distinct bytes into one U+FFFD in a code.
  { label: 'a body that is not UTF-8 (0xFF inside a string)', faults: [respond(200, notUtf8(grantsBody))], upstream: 1 },
  { label: 'a body that starts with a byte order mark', faults: [respond(200, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(grantsBody)]))], upstream: 1 },
  { label: 'a body beyond maxResponseBytes', faults: [respond(200, grantsBody.replace('"message":""', `"message":"${'x'.repeat(8192)}"`))], upstream: 1, own: { genauth: { maxResponseBytes: 4096 } } },
  ...[301, 302, 307, 308].map(
    (status): Case => ({
      label: `a redirect (${status}) is not followed`,
      faults: [respond(status, '', { location: '/redirected' })],
      upstream: 1,
      also: () => expect(emulator().callCount('/redirected')).toBe(0),
    }),
  ),
  { label: 'Content-Encoding gzip on a plain body', faults: [respond(200, grantsBody, { 'content-encoding': 'gzip' })], upstream: 1 },
  { label: 'Content-Encoding gzip on a gzipped body', faults: [respond(200, gzipSync(grantsBody), { 'content-encoding': 'gzip' })], upstream: 1 },
  { label: 'Content-Encoding br', faults: [respond(200, grantsBody, { 'content-encoding': 'br' })], upstream: 1 },
  // The signature scheme: no token request, the grants call goes straight to the peer (`not-http:` hosts, see ownOptions).
  ...Object.keys(NOT_HTTP).map(
    (label): Case => ({ label: `a peer answering ${label}`, faults: [], upstream: 0, own: { genauth: { host: `not-http:${label}`, authScheme: 'signature' } } }),
  ),
  { label: 'the management token endpoint hangs', faults: [{ kind: 'hang', path: TOKEN_PATH }], upstream: 0, own: SHORT, answerOnly: true },
  { label: 'the management token endpoint answers an error', faults: [{ kind: 'body-error', statusCode: 500, message: UPSTREAM_TEXT, path: TOKEN_PATH }], upstream: 0, own: {} },
];

describe.each(ANSWER_MODES)('$mode', ({ passErrors }) => {
  describe.each(ROWS)('$name', (row: AdapterRow) => {
    let shared: Probe;
    beforeAll(async () => {
      shared = await startProbe(row, { options: optionsFor(emulator(), BASE), passErrors });
      await warmUp(shared);
    });
    afterAll(async () => {
      await shared.close();
    });

    const cases = CASES.map((c, i) => [c.label, c, i] as const).filter(([, c]) => !(passErrors && c.answerOnly));
    it.each(cases)('%s -> 503', async (_label, c, index) => {
      const user = `upstream-${index}`;
      emulator().setGrants(user, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
      const own = c.own === undefined ? undefined : ownOptions(c.own);
      const probe = own === undefined ? shared : await startProbe(row, { options: own, passErrors });
      try {
        if (c.warm) await warmUp(probe);
        for (const fault of c.faults) emulator().fault(fault);
        emulator().resetCalls();
        const token = await emulator().mintToken(user);
        const answer = await send(probe.port, { target: '/api/v1/reports', headers: bearer(token) });
        expectRefused(emulator(), probe, answer, {
          status: 503,
          code: 'ERR_PERMISSIONS_UNAVAILABLE',
          challenge: null,
          upstream: c.upstream,
          forbidden: forbiddenStrings(emulator(), token, [UPSTREAM_TEXT, ...EMULATOR_TEXTS]),
        });
        if (c.retryAfter !== undefined) expect(retryAfterOf(probe, answer)).toBe(c.retryAfter);
        c.also?.();
      } finally {
        if (probe !== shared) await probe.close();
      }
    });

    it('Content-Encoding identity is read as usual (control)', async () => {
      emulator().fault(respond(200, grantsBody, { 'content-encoding': 'identity' }));
      const answer = await send(shared.port, { target: '/api/v1/reports', headers: bearer(await emulator().mintToken('upstream-identity')) });
      expectAllowed(emulator(), answer, 1);
    });
  });
});

/** One request that fetches and caches the app's management token; the capture is then cleared. */
async function warmUp(probe: Probe): Promise<void> {
  emulator().setGrants('warm-up', []);
  await send(probe.port, { target: '/api/v1/reports', headers: bearer(await emulator().mintToken('warm-up')) });
  capture.lines = [];
  capture.errors = [];
}

function ownOptions(own: OptionOverrides) {
  const genauth = { ...BASE.genauth, ...own.genauth };
  // The refused-connection case names a port only known once the file started.
  if (genauth.host === 'http://127.0.0.1:0') genauth.host = `http://127.0.0.1:${closedPort}`;
  const host = genauth.host;
  if (typeof host === 'string' && host.startsWith('not-http:')) genauth.host = `http://127.0.0.1:${notHttpPorts[host.slice('not-http:'.length)]}`;
  return optionsFor(emulator(), { ...own, genauth });
}
