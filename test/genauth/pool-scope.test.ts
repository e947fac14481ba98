// A management token scoped to another user pool than genauth.userPoolId (its `scoped_userpool_id`
// claim, GENAUTH-PROTOCOL.md §1.1): a set-up problem, never a token to call GenAuth with. Over real
// HTTP: an Express app on port 0 and the emulator, which issues tokens scoped to another pool either
// because the guard names another pool than its own (a wrong genauth.userPoolId) or because its
// `managementTokenPoolId` says so (an access key of another pool, GenAuth serving the pool named).
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { GuardNotReadyError } from '../../src/index.js';
import { startEmulator, type EmulatorOptions, type GenAuthEmulator } from '../../src/testing/index.js';
import { manualClock } from '../clock.js';
import { bearerFor, closeAfterEach, RESOURCES } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';
const OURS = '65a1b2c3d4e5f60718293a4b';
const THEIRS = '65a1b2c3d4e5f60718293aff';
const SECRET = 'pool-scope-secret-5f0e2d';

const track = closeAfterEach<ExpressGuard>();
let emulators: GenAuthEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
  emulators = [];
});

async function emulatorWith(options: EmulatorOptions): Promise<GenAuthEmulator> {
  const emulator = await startEmulator({ userPoolId: OURS, accessKeySecret: SECRET, ...options });
  emulators.push(emulator);
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  return emulator;
}

/** A guard (with a logger that keeps its lines) behind one route requiring reports:Read. */
function appWith(emulator: GenAuthEmulator, genauth: Partial<ExpressGuardOptions['genauth']> = {}, overrides: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const base = emulator.guardOptions();
  const guard = track(createExpressGuard({ ...base, ...overrides, genauth: { ...base.genauth, ...genauth }, logger: { warn: (line: string) => lines.push(line) } }));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.send('ok'));
  return { app, guard, lines };
}

async function readyError(guard: ExpressGuard): Promise<GuardNotReadyError> {
  const error = await guard.ready().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GuardNotReadyError);
  return error as GuardNotReadyError;
}

/** Nothing that identifies a pool, the secret or a token (a JWT starts `eyJ`). */
function expectNothingNamed(text: string): void {
  for (const word of [OURS, THEIRS, SECRET, 'eyJ']) expect(text.toLowerCase()).not.toContain(word.toLowerCase());
}

describe('a management token scoped to another user pool', () => {
  it.each<[string, EmulatorOptions, Partial<ExpressGuardOptions['genauth']>]>([
    // GenAuth would refuse the pool header: today a 503 as "refused credentials", after one grants call.
    ['a wrong genauth.userPoolId', {}, { userPoolId: THEIRS }],
    // GenAuth serving the pool the header names: today 200, answered from a token of another pool.
    ['an access key of another pool', { managementTokenPoolId: THEIRS }, {}],
  ])('(%s): every request is a 503 problem+json naming no pool or token, the token is never sent, one line names genauth.userPoolId', async (_case, emulatorOptions, genauth) => {
    const emulator = await emulatorWith(emulatorOptions);
    const { app, lines } = appWith(emulator, genauth);
    const auth = await bearerFor(emulator, 'alice');
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/r').set('authorization', auth);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expectNothingNamed(JSON.stringify(res.body) + JSON.stringify(res.headers));
    }
    expect(emulator.callCount(TOKEN)).toBeGreaterThan(0);
    expect(emulator.callCount(RESOURCES)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/^genauth-guard: set-up problem: .*check option "genauth\.userPoolId"/)]);
    expectNothingNamed(lines.join('\n'));
  });

  it('ready() rejects with the reason pool_mismatch naming genauth.userPoolId, logged once, naming no pool, secret or token', async () => {
    const emulator = await emulatorWith({ managementTokenPoolId: THEIRS });
    const { guard, lines } = appWith(emulator);
    const error = await readyError(guard);
    expect(error.reasons).toEqual([expect.objectContaining({ kind: 'pool_mismatch', option: 'genauth.userPoolId' })]);
    expectNothingNamed(error.message + JSON.stringify(error.reasons));
    expect(lines).toEqual([expect.stringContaining('check option "genauth.userPoolId"')]);
    expectNothingNamed(lines.join('\n'));
    // Not ready on a second call either (the configuration is still wrong), and no new line.
    expect((await readyError(guard)).reasons[0]?.kind).toBe('pool_mismatch');
    expect(lines).toHaveLength(1);
  });

  it('costs one token request per 5 s, not one per load (as a token GenAuth refuses from its first call)', async () => {
    const emulator = await emulatorWith({ managementTokenPoolId: THEIRS });
    const time = manualClock();
    // Errors are not cached, so each user's load is a load of its own.
    const { app } = appWith(emulator, {}, { clock: time.clock, now: () => Date.now(), cache: { errorTtl: 0 } });
    for (let user = 0; user < 5; user++) {
      emulator.setGrants(`u${user}`, []);
      expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, `u${user}`))).status).toBe(503);
    }
    expect(emulator.callCount(TOKEN)).toBe(1);
    time.advance(5_000);
    emulator.resetCalls();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, 'u0'))).status).toBe(503);
    expect(emulator.callCount(TOKEN)).toBe(1);
    expect(emulator.callCount(RESOURCES)).toBe(0);
  });

  it('the signature scheme fetches no token and is not concerned', async () => {
    const emulator = await emulatorWith({ managementTokenPoolId: THEIRS });
    const { app, guard } = appWith(emulator, { authScheme: 'signature' });
    await guard.ready();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, 'alice'))).status).toBe(200);
  });
});

describe('what is not a token of another pool keeps today\'s behaviour', () => {
  it.each<[string, string]>([
    ['differing in case', OURS.toUpperCase()],
    ['with white space around it', ` ${OURS}\t`],
  ])('a claim naming our pool %s: 200, ready() resolves', async (_case, claim) => {
    const emulator = await emulatorWith({ managementTokenPoolId: claim });
    const { app, guard, lines } = appWith(emulator);
    await guard.ready();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, 'alice'))).status).toBe(200);
    expect(lines).toEqual([]);
  });

  it('a configured genauth.userPoolId differing from the claim in case only: ready() resolves', async () => {
    const emulator = await emulatorWith({});
    const { guard, lines } = appWith(emulator, { userPoolId: OURS.toUpperCase() });
    await guard.ready();
    expect(lines).toEqual([]);
  });

  it('a token without the claim: 200, ready() resolves', async () => {
    const emulator = await emulatorWith({ managementTokenPoolId: null });
    const { app, guard, lines } = appWith(emulator);
    await guard.ready();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, 'alice'))).status).toBe(200);
    expect(lines).toEqual([]);
  });

  const b64 = (value: string) => Buffer.from(value).toString('base64url');
  it.each<[string, string]>([
    ['an opaque token', 'opaque-management-token-0123456789'],
    ['a JWT whose payload is not JSON', `${b64('{"alg":"RS256"}')}.${b64('not json')}.c2ln`],
    ['a JWT whose payload is not base64url', `${b64('{"alg":"RS256"}')}.~~~~.c2ln`],
    ['a JWT whose payload is an array', `${b64('{"alg":"RS256"}')}.${b64(`["${THEIRS}"]`)}.c2ln`],
    ['a JWT whose claim is not a string', `${b64('{"alg":"RS256"}')}.${b64('{"scoped_userpool_id":7}')}.c2ln`],
    ['a JWT whose claim is blank', `${b64('{"alg":"RS256"}')}.${b64('{"scoped_userpool_id":" "}')}.c2ln`],
    ['two dots too few', b64(`{"scoped_userpool_id":"${THEIRS}"}`)],
  ])('%s: the token is used (ready() resolves)', async (_case, token) => {
    const emulator = await emulatorWith({});
    emulator.fault({ kind: 'respond', status: 200, body: { statusCode: 200, data: { access_token: token, expires_in: 7200 } }, path: TOKEN, times: 1 });
    const { guard, lines } = appWith(emulator);
    await guard.ready();
    expect(lines).toEqual([]);
  });
});
