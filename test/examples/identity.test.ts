import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cookieTokenGuard, issuerOnlyGuard, passportUserGuard, protectedApp } from '../../examples/identity/apps.js';
import type { ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { emulatorEnv } from '../../src/cli/emulator.js';

// Runs docs/identity.md's examples (examples/identity/apps.ts) against the emulator, configured through
// the documented environment variables.
const emulator = useEmulator();
let server: Server | undefined;
let guard: ExpressGuard | undefined;

function env(): Record<string, string | undefined> {
  return emulatorEnv(emulator());
}

async function serve(app: ReturnType<typeof protectedApp>): Promise<(headers?: Record<string, string>) => Promise<Response>> {
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/servers/1/start`;
  return (headers = {}) => fetch(url, { method: 'POST', headers });
}

beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  server?.close();
  await guard?.close();
});

describe('docs/identity.md examples', () => {
  it('cookie: the token from the access_token cookie; the Authorization header is not read', async () => {
    guard = cookieTokenGuard(env());
    const call = await serve(protectedApp(guard));
    expect((await call({ cookie: `access_token=${await emulator().mintToken('alice')}` })).status).toBe(200);
    expect((await call({ cookie: `access_token=${await emulator().mintToken('bob')}` })).status).toBe(403);
    expect((await call({ authorization: await bearerFor(emulator(), 'alice') })).status).toBe(401);
  });

  it("passport: req.user set by the layer in front is authorized without a token", async () => {
    guard = passportUserGuard(env());
    const call = await serve(
      protectedApp(guard, (req, _res, next) => {
        const who = req.get('x-test-user');
        if (who !== undefined) (req as typeof req & { user?: { id: string } }).user = { id: who };
        next();
      }),
    );
    const res = await call({ 'x-test-user': 'alice' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ started: '1', by: 'alice' });
    expect((await call({ 'x-test-user': 'bob' })).status).toBe(403);
    expect((await call({ authorization: await bearerFor(emulator(), 'alice') })).status).toBe(401);
  });

  it('discovery: from just the issuer, tokens are verified with the keys its discovery document names', async () => {
    guard = issuerOnlyGuard({ ...env(), GENAUTH_JWKS_URI: undefined });
    const call = await serve(protectedApp(guard));
    expect((await call({ authorization: await bearerFor(emulator(), 'alice') })).status).toBe(200);
    expect((await call({ authorization: await bearerFor(emulator(), 'bob') })).status).toBe(403);
    expect((await call({ authorization: await bearerFor(emulator(), 'alice', { issuer: 'https://other.test/oidc' }) })).status).toBe(401);
  });
});
