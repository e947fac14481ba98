import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { useEmulator, closeAfterEach, resetToAliceReading } from '../fixtures.js';

const RESOURCES = '/api/v3/get-user-authorized-resources';
const TOKEN = '/api/v3/get-management-token';

const track = closeAfterEach<ExpressGuard>();

const emulator = useEmulator();
beforeEach(() => {
  resetToAliceReading(emulator());
  emulator().addUser('bob');
});

type GenAuthOverrides = Partial<ExpressGuardOptions['genauth']>;

/** An Express app whose guard signs every GenAuth call (AK/SK scheme). */
function signedApp(genauth: GenAuthOverrides = {}, overrides: Partial<ExpressGuardOptions> = {}) {
  const base = emulator().guardOptions();
  const guard = createExpressGuard({
    ...base,
    ...overrides,
    genauth: { ...base.genauth, authScheme: 'signature', timeout: 1500, ...genauth },
    cache: { errorTtl: 0 },
  });
  track(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return app;
}

const get = async (app: express.Express, user = 'alice') =>
  request(app).get('/r').set('authorization', `Bearer ${await emulator().mintToken(user)}`);

const resourceCalls = () => emulator().calls.filter((call) => call.path === RESOURCES);

describe('guard with the AK/SK signature scheme', () => {
  it('a granted user gets 200, an ungranted one 403, and no management token is ever fetched', async () => {
    const app = signedApp();
    expect((await get(app)).status).toBe(200);
    expect((await get(app, 'bob')).status).toBe(403);
    expect(emulator().callCount(TOKEN)).toBe(0);
    expect(resourceCalls()).toHaveLength(2);
    for (const call of resourceCalls()) expect(call).toMatchObject({ auth: 'signature', statusCode: 200, nonce: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('a wrong accessKeySecret is refused by the emulator (apiCode 1300): 503 and one warn line', async () => {
    const lines: string[] = [];
    const app = signedApp({ accessKeySecret: 'wrong-secret' }, { logger: { warn: (line: string) => lines.push(line) } });
    const first = await get(app);
    expect(first.status).toBe(503);
    expect(first.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect((await get(app)).status).toBe(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/wrong-secret/);
    expect(JSON.stringify(first.body)).not.toMatch(/wrong-secret|signature/i);
    // Refused credentials are not retried: one upstream call per request.
    expect(resourceCalls().map((call) => [call.statusCode, call.apiCode])).toEqual([[401, 1300], [401, 1300]]);
  });

  it('a retry after a 5xx is re-signed with a fresh nonce (the emulator refuses a replay)', async () => {
    emulator().fault({ kind: 'status', status: 503, path: RESOURCES, times: 2 });
    const app = signedApp();
    expect((await get(app)).status).toBe(200);
    const calls = resourceCalls();
    expect(calls.map((call) => call.status)).toEqual([503, 503, 200]);
    expect(calls.at(-1)).toMatchObject({ auth: 'signature', statusCode: 200 });
    const nonces = calls.map((call) => call.nonce);
    expect(nonces.every((nonce) => typeof nonce === 'string')).toBe(true);
    expect(new Set(nonces).size).toBe(3);
  });

  it('a body 5xx and a connection cut mid-body are retried, each with a new signature', async () => {
    emulator().fault({ kind: 'body-error', statusCode: 500, path: RESOURCES, times: 1 });
    emulator().fault({ kind: 'drop-mid-body', path: RESOURCES, times: 1 });
    const app = signedApp();
    expect((await get(app)).status).toBe(200);
    const calls = resourceCalls();
    expect(calls.map((call) => call.fault)).toEqual(['body-error', 'drop-mid-body', undefined]);
    expect(new Set(calls.map((call) => call.nonce)).size).toBe(3);
  });

  it('a body slower than the deadline is a 503', async () => {
    emulator().fault({ kind: 'slow-body', chunkBytes: 4, intervalMs: 2000, path: RESOURCES });
    const app = signedApp({ timeout: 400, retries: 0 });
    const res = await get(app);
    expect(res.status).toBe(503);
    expect(resourceCalls()[0]).toMatchObject({ status: 200, fault: 'slow-body' });
  });

  it('x-genauth- headers with the GenAuth scheme word (the default for that prefix)', async () => {
    const app = signedApp({ headerPrefix: 'x-genauth-' });
    expect((await get(app)).status).toBe(200);
    expect(resourceCalls()[0]).toMatchObject({ auth: 'signature', statusCode: 200 });
  });

  it('x-genauth- headers under the authing scheme word are refused: 503', async () => {
    const app = signedApp({ headerPrefix: 'x-genauth-', signatureScheme: 'authing' }, { logger: { warn: () => {} } });
    expect((await get(app)).status).toBe(503);
    expect(resourceCalls()[0]).toMatchObject({ statusCode: 401, apiCode: 1300 });
  });
});
