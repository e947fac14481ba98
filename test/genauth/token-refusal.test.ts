// The token endpoint (`POST /api/v3/get-management-token`) refusing the credentials themselves (a wrong
// accessKeySecret: GenAuth answers body statusCode 401; or HTTP 401/403, body 403, a credential apiCode):
// the verdict is kept UNPROVEN_TOKEN_HOLD_MS (5 s) as a token refused from its first call and a token of
// another pool are, not asked again on every load (GenAuth rate-limits its token endpoint). An outage
// of the endpoint (5xx, a dropped connection) is not a verdict and keeps today's behaviour: every load
// asks again (within genauth.retries and the retry budget). Over real HTTP: an Express app on port 0
// and the emulator on loopback.
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { checkConnectivity } from '../../src/cli/connectivity.js';
import { GuardNotReadyError } from '../../src/index.js';
import { startEmulator, type Fault, type GenAuthEmulator } from '../../src/testing/index.js';
import { manualClock } from '../clock.js';
import { bearerFor, closeAfterEach, RESOURCES } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';
const SECRET = 'token-refusal-secret-8c1d4e';
const WRONG = 'token-refusal-wrong-2b7f90';
const LOADS = 6;

const track = closeAfterEach<ExpressGuard>();
let emulators: GenAuthEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
  emulators = [];
});

async function emulatorFor(): Promise<GenAuthEmulator> {
  const emulator = await startEmulator({ accessKeySecret: SECRET });
  emulators.push(emulator);
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  for (let user = 0; user < LOADS; user++) emulator.setGrants(`u${user}`, [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
  return emulator;
}

/**
 * A guard on a clock moved by hand, errors not cached (each user's load is a load of its own, as many
 * users' are, or one user's once cache.errorTtl has passed), behind one route requiring reports:Read.
 */
function appWith(emulator: GenAuthEmulator, genauth: Partial<ExpressGuardOptions['genauth']> = {}, overrides: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const time = manualClock();
  const base = emulator.guardOptions();
  const guard = track(
    createExpressGuard({
      ...base,
      clock: time.clock,
      now: () => Date.now(),
      cache: { errorTtl: 0 },
      ...overrides,
      genauth: { ...base.genauth, ...genauth },
      logger: { warn: (line: string) => lines.push(line) },
    }),
  );
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => res.send('ok'));
  return { app, guard, lines, time };
}

/** One load each of `LOADS` users: every answer a 503 problem+json naming neither secret. */
async function loadEach(emulator: GenAuthEmulator, app: express.Express): Promise<void> {
  for (let user = 0; user < LOADS; user++) {
    const res = await request(app).get('/r').set('authorization', await bearerFor(emulator, `u${user}`));
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toMatch(new RegExp(`${SECRET}|${WRONG}`));
  }
}

async function readyError(guard: ExpressGuard): Promise<GuardNotReadyError> {
  const error = await guard.ready().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GuardNotReadyError);
  return error as GuardNotReadyError;
}

describe('the token endpoint refusing the credentials', () => {
  it.each<[string, Fault | undefined, RegExp]>([
    ['a wrong accessKeySecret (body statusCode 401)', undefined, /statusCode 401/],
    ['HTTP 401', { kind: 'status', status: 401, path: TOKEN }, /HTTP 401/],
    ['HTTP 403', { kind: 'status', status: 403, path: TOKEN }, /HTTP 403/],
    ['body statusCode 403', { kind: 'body-error', statusCode: 403, path: TOKEN }, /statusCode 403/],
    ['a credential apiCode (1301)', { kind: 'body-error', statusCode: 400, apiCode: 1301, path: TOKEN }, /apiCode 1301/],
    ['"user not found" (the access key unknown)', { kind: 'body-error', statusCode: 404, apiCode: 2004, path: TOKEN }, /apiCode 2004/],
  ])('(%s): one token request per 5 s, not one per load; every load a 503; one operator line', async (_case, fault, told) => {
    const emulator = await emulatorFor();
    if (fault !== undefined) emulator.fault(fault);
    const { app, lines, time } = appWith(emulator, fault === undefined ? { accessKeySecret: WRONG } : {});
    await loadEach(emulator, app);
    expect(emulator.callCount(TOKEN)).toBe(1);
    expect(emulator.callCount(RESOURCES)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/refused the management credentials/)]);
    expect(lines[0]).toMatch(told);
    expect(lines.join('\n')).not.toMatch(new RegExp(`${SECRET}|${WRONG}`));
    // 5 s later the endpoint is asked again (once), still refusing.
    time.advance(4_999);
    await loadEach(emulator, app);
    expect(emulator.callCount(TOKEN)).toBe(1);
    time.advance(1);
    await loadEach(emulator, app);
    expect(emulator.callCount(TOKEN)).toBe(2);
  });

  it('once the endpoint takes the credentials again (the key re-enabled), the first load after the hold is answered', async () => {
    const emulator = await emulatorFor();
    emulator.fault({ kind: 'status', status: 403, path: TOKEN });
    const { app, time } = appWith(emulator);
    const auth = await bearerFor(emulator, 'alice');
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(503);
    emulator.clearFaults();
    // Within the hold: still the remembered verdict, no call.
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(503);
    expect(emulator.callCount(TOKEN)).toBe(1);
    time.advance(5_000);
    expect((await request(app).get('/r').set('authorization', auth)).status).toBe(200);
    expect(emulator.callCount(TOKEN)).toBe(2);
  });

  it('ready() within the hold rejects with the same reason (credentials, naming genauth.accessKeySecret and the status), with no token request', async () => {
    const emulator = await emulatorFor();
    const { guard, lines, time } = appWith(emulator, { accessKeySecret: WRONG });
    const first = await readyError(guard);
    expect(first.reasons).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret', cause: expect.stringMatching(/statusCode 401/) })]);
    expect(emulator.callCount(TOKEN)).toBe(1);
    const second = await readyError(guard);
    expect(second.reasons).toEqual(first.reasons);
    expect(emulator.callCount(TOKEN)).toBe(1);
    expect(`${second.message} ${JSON.stringify(second.reasons)} ${lines.join('\n')}`).not.toMatch(new RegExp(`${SECRET}|${WRONG}`));
    expect(lines).toHaveLength(1);
    time.advance(5_000);
    expect((await readyError(guard)).reasons).toEqual(first.reasons);
    expect(emulator.callCount(TOKEN)).toBe(2);
  });

  it('ready() with warm.users: the token step and the warm-up share one token request, one credentials reason', async () => {
    const emulator = await emulatorFor();
    const { guard } = appWith(emulator, { accessKeySecret: WRONG }, { warm: { users: ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'] } });
    const error = await readyError(guard);
    expect(error.reasons).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret' })]);
    expect((await readyError(guard)).reasons).toEqual(error.reasons);
    expect(emulator.callCount(TOKEN)).toBe(1);
    expect(emulator.callCount(RESOURCES)).toBe(0);
  });
});

describe('check-config (its connectivity check) with a wrong accessKeySecret', () => {
  it('with warm.users (the warm-up at construction and ready() both meet the refusal): credentials, not transient (exit 1), one token request', async () => {
    const emulator = await emulatorFor();
    const base = emulator.guardOptions();
    const progress: string[] = [];
    const problems = await checkConnectivity(
      { ...base, genauth: { ...base.genauth, accessKeySecret: WRONG }, warm: { users: ['u0', 'u1', 'u2'] } },
      { out: () => {}, progress: (line) => progress.push(line), error: () => {} },
    );
    expect(problems).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret', transient: false, cause: expect.stringMatching(/statusCode 401/) })]);
    expect(JSON.stringify(problems) + progress.join('\n')).not.toMatch(new RegExp(`${SECRET}|${WRONG}`));
    expect(emulator.callCount(TOKEN)).toBe(1);
  });
});

describe('an outage of the token endpoint is not held (today\'s behaviour)', () => {
  it.each<[string, Fault]>([
    ['HTTP 503', { kind: 'status', status: 503, path: TOKEN }],
    ['body statusCode 500', { kind: 'body-error', statusCode: 500, path: TOKEN }],
    ['a dropped connection', { kind: 'drop', path: TOKEN }],
  ])('(%s): every load asks again, and the first load once it is back is answered', async (_case, fault) => {
    const emulator = await emulatorFor();
    emulator.fault(fault);
    // No retries: one token request per load is what today's behaviour is without them.
    const { app } = appWith(emulator, { retries: 0 });
    await loadEach(emulator, app);
    expect(emulator.callCount(TOKEN)).toBe(LOADS);
    emulator.clearFaults();
    expect((await request(app).get('/r').set('authorization', await bearerFor(emulator, 'alice'))).status).toBe(200);
  });
});
