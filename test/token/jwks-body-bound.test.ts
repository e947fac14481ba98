// How much of a key set (or discovery document) answer the guard reads. jose reads a JWKS answer whole,
// with no bound, and the discovery document was read the same way: a compromised or misconfigured
// issuer answering a huge or endless body (declared by content-length, chunked, or gzip-compressed so
// that a few KiB on the wire decode to megabytes) made the guard hold all of it, then parse it twice.
// Now at most jwt.jwks.maxResponseBytes (1 MiB by default) of the decoded body is read: past it the
// read is aborted and the fetch fails like any other (503 ERR_KEYS_UNAVAILABLE, a set-up problem naming
// the key source's option, the failure backoff). jwt.jwks.timeoutDuration covers the whole body, so a
// body that trickles in is a timeout. Over real HTTP: an Express app, the emulator (tokens, keys, a
// trickled body) and a hostile key server on loopback.
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { GuardNotReadyError } from '../../src/index.js';
import { manualClock } from '../clock.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';
import { startHostileKeyServer, type HostileKeyServer } from './hostile-key-server.js';

const MiB = 1024 * 1024;
const JWKS = '/jwks.json';
const DISCOVERY = '/.well-known/openid-configuration';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
let hostile: HostileKeyServer;
/** The emulator's key set, as its JWKS endpoint serves it. */
let keySet: unknown;

beforeAll(async () => {
  hostile = await startHostileKeyServer();
  keySet = await (await fetch(emulator().jwksUri)).json();
});
afterAll(() => hostile.close());
beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
});

type Jwt = NonNullable<ExpressGuardOptions['jwt']>;

function appWith(jwt: Partial<Jwt> = {}) {
  const lines: string[] = [];
  const base = emulator().guardOptions().jwt as Jwt;
  const guard = track(createExpressGuard({
    genauth: emulator().guardOptions().genauth,
    jwt: { ...base, jwksUri: `${hostile.url}${JWKS}`, ...jwt } as Jwt,
    clock: manualClock().clock,
    logger: { warn: (line: string) => lines.push(line) },
  }));
  const app = express();
  app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
  return { app, guard, lines };
}

/** A fresh token (never cached) for alice, signed with the emulator's key. */
async function answerOf(app: express.Express) {
  const token = await emulator().mintToken('alice', { claims: { jti: randomUUID() } });
  return request(app).get('/me').set('authorization', `Bearer ${token}`);
}

async function readyReasons(guard: ExpressGuard) {
  const error = await guard.ready().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GuardNotReadyError);
  return (error as GuardNotReadyError).reasons;
}

const TOO_LARGE = /more than .*jwt\.jwks\.maxResponseBytes.*check option "jwt\.jwksUri"/;

describe('the key set answer is read up to jwt.jwks.maxResponseBytes (1 MiB by default)', () => {
  it.each([
    ['declared by content-length', 'length'],
    ['chunked, with no content-length', 'chunked'],
    ['gzip-compressed (8 KiB on the wire)', 'gzip'],
  ] as const)('a valid key set padded past 1 MiB, %s: 503, a set-up problem naming jwt.jwksUri, the read cut off', async (_what, framing) => {
    hostile.serve(JWKS, { kind: 'padded', json: keySet, bytes: 8 * MiB, framing });
    const { app, lines } = appWith();
    const answer = await answerOf(app);
    // Before the fix: 200, the whole 8 MiB read (and parsed twice).
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('ERR_KEYS_UNAVAILABLE');
    expect(answer.headers['retry-after']).toBeDefined();
    expect(lines).toEqual([expect.stringMatching(TOO_LARGE)]);
    await hostile.settled();
    if (framing !== 'gzip') expect(hostile.cutOff).toBeLessThan(8 * MiB);
  });

  it('a content-length past the bound is refused from the headers, before any byte of the body', async () => {
    hostile.serve(JWKS, { kind: 'declared', bytes: 2 ** 31 });
    // A long timeout: before the fix, this waited for the body until it ran out (a timeout, not this).
    const { app, guard } = appWith({ jwks: { timeoutDuration: 15_000 } });
    expect((await answerOf(app)).status).toBe(503);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ kind: 'key_source_too_large', option: 'jwt.jwksUri' })]);
  });

  it('a body without end is cut off at the bound, not read until the timeout', async () => {
    hostile.serve(JWKS, { kind: 'endless' });
    // Before the fix: read until the timeout (a timeout, not this).
    const { app, guard } = appWith({ jwks: { timeoutDuration: 3_000 } });
    const before = hostile.cutOff;
    expect((await answerOf(app)).status).toBe(503);
    await hostile.settled();
    expect(hostile.cutOff).toBeGreaterThan(before);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ kind: 'key_source_too_large', option: 'jwt.jwksUri' })]);
  });

  it('the bound is jwt.jwks.maxResponseBytes: a body of exactly that many bytes is read, one more is not', async () => {
    const bound = 8_192;
    hostile.serve(JWKS, { kind: 'padded', json: keySet, bytes: bound, framing: 'chunked' });
    expect((await answerOf(appWith({ jwks: { maxResponseBytes: bound } }).app)).status).toBe(200);
    hostile.serve(JWKS, { kind: 'padded', json: keySet, bytes: bound + 1, framing: 'chunked' });
    expect((await answerOf(appWith({ jwks: { maxResponseBytes: bound } }).app)).status).toBe(503);
    // Raised for an issuer whose key set is that large.
    hostile.serve(JWKS, { kind: 'padded', json: keySet, bytes: 2 * MiB, framing: 'length' });
    expect((await answerOf(appWith({ jwks: { maxResponseBytes: 2 * MiB } }).app)).status).toBe(200);
  });

  it('an answer too large is a failure like the others: not fetched again by the next requests', async () => {
    hostile.serve(JWKS, { kind: 'padded', json: keySet, bytes: 2 * MiB, framing: 'chunked' });
    const before = hostile.calls(JWKS);
    const { app, lines } = appWith();
    for (let i = 0; i < 4; i++) expect((await answerOf(app)).status).toBe(503);
    expect(hostile.calls(JWKS) - before).toBe(1);
    expect(lines).toEqual([expect.stringMatching(TOO_LARGE)]);
  });

  it('a body that trickles in is bounded by jwt.jwks.timeoutDuration, which covers the whole body', async () => {
    // The emulator's own key set, 16 bytes every 100 ms: seconds for the whole of it.
    emulator().fault({ kind: 'slow-body', path: '/oidc/.well-known/jwks.json' });
    const { app, guard } = appWith({ jwksUri: emulator().jwksUri, jwks: { timeoutDuration: 300 } });
    expect((await answerOf(app)).status).toBe(503);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ kind: 'timeout', option: 'jwt.jwksUri' })]);
  });
});

describe('the OIDC discovery document is read up to the same bound', () => {
  function discoveryApp(jwks: Jwt['jwks'] = {}) {
    const lines: string[] = [];
    const base = emulator().guardOptions().jwt as Jwt;
    const guard = track(createExpressGuard({
      genauth: emulator().guardOptions().genauth,
      jwt: { issuer: hostile.url, audience: base.audience, algorithms: ['RS256'], discovery: true, jwks } as Jwt,
      clock: manualClock().clock,
      logger: { warn: (line: string) => lines.push(line) },
    }));
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    return { app, guard, lines };
  }
  /** A token of the hostile issuer, signed with the emulator's key (which discovery points to). */
  async function answerOfIssuer(app: express.Express) {
    const token = await emulator().mintToken('alice', { issuer: hostile.url, claims: { jti: randomUUID() } });
    return request(app).get('/me').set('authorization', `Bearer ${token}`);
  }

  it('a discovery document padded past 1 MiB: 503 and a set-up problem naming jwt.issuer', async () => {
    hostile.serve(DISCOVERY, { kind: 'padded', json: { issuer: hostile.url, jwks_uri: emulator().jwksUri }, bytes: 4 * MiB, framing: 'chunked' });
    const { app, guard, lines } = discoveryApp();
    // Before the fix: 200, the whole document read.
    expect((await answerOfIssuer(app)).status).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/more than .*jwt\.jwks\.maxResponseBytes.*check option "jwt\.issuer"/)]);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ kind: 'key_source_too_large', option: 'jwt.issuer' })]);
    expect(emulator().callCount('/oidc/.well-known/jwks.json')).toBe(0);
  });

  it('a discovery document within the bound still works, and so does its key set', async () => {
    hostile.serve(DISCOVERY, { kind: 'padded', json: { issuer: hostile.url, jwks_uri: emulator().jwksUri }, bytes: 64 * 1024, framing: 'gzip' });
    const { app } = discoveryApp();
    expect((await answerOfIssuer(app)).status).toBe(200);
  });

  it('the key set it names is bounded too', async () => {
    hostile.serve(DISCOVERY, { kind: 'padded', json: { issuer: hostile.url, jwks_uri: `${hostile.url}${JWKS}` }, bytes: 1024, framing: 'length' });
    hostile.serve(JWKS, { kind: 'endless' });
    const { app, guard } = discoveryApp({ timeoutDuration: 3_000 });
    expect((await answerOfIssuer(app)).status).toBe(503);
    expect(await readyReasons(guard)).toEqual([expect.objectContaining({ kind: 'key_source_too_large', option: 'jwt.issuer' })]);
  });
});

describe('jwt.jwks.maxResponseBytes', () => {
  const build = (maxResponseBytes: unknown) => () =>
    createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { ...(emulator().guardOptions().jwt as Jwt), jwks: { maxResponseBytes } } as Jwt });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1048576', 64 * MiB + 1])('refuses %s at construction, naming the option', (value) => {
    expect(build(value)).toThrow(TypeError);
    expect(build(value)).toThrow(/option "jwt\.jwks\.maxResponseBytes"/);
  });

  it.each([1, 1024, 64 * MiB])('takes %s', (value) => {
    track(build(value)());
  });
});
