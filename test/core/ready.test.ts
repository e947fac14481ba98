// guard.ready(): what it fetches (keys, discovery, management token, warmed grants) and that it is
// idempotent, over the emulator; on every adapter's guard and the Nest service.
import { describe, expect, it } from 'vitest';
import { createGuard, GuardNotReadyError, type Guard, type GuardOptions } from '../../src/index.js';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createFastifyGuard } from '../../src/adapters/fastify/guard.js';
import { GenAuthService } from '../../src/adapters/nest/service.js';
import { closeAfterEach, RESOURCES, useEmulator } from '../fixtures.js';

const JWKS = '/oidc/.well-known/jwks.json';
const DISCOVERY = '/oidc/.well-known/openid-configuration';
const TOKEN = '/api/v3/get-management-token';

const emulator = useEmulator();
const track = closeAfterEach<{ close(): Promise<void> }>();

function guardWith(overrides: Partial<GuardOptions> = {}): Guard {
  const base = emulator().guardOptions();
  const guard = createGuard({ ...base, logger: false, ...overrides });
  track(guard);
  return guard;
}

function fresh(): void {
  emulator().clearFaults();
  emulator().resetCalls();
  emulator().clearGrants();
  emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
}

describe('guard.ready()', () => {
  it('fetches the key set and the management token, once however often it is called', async () => {
    fresh();
    const guard = guardWith();
    await Promise.all([guard.ready(), guard.ready()]);
    await guard.ready();
    expect(emulator().callCount(JWKS)).toBe(1);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('under HS* fetches no key set', async () => {
    fresh();
    const guard = guardWith({ jwt: { secret: 'a'.repeat(32), algorithms: ['HS256'] } as GuardOptions['jwt'] });
    await guard.ready();
    expect(emulator().callCount(JWKS)).toBe(0);
    expect(emulator().callCount(TOKEN)).toBe(1);
  });

  it('with discovery: fetches the discovery document, then the key set it names', async () => {
    fresh();
    const { issuer, audience } = emulator().guardOptions().jwt;
    const guard = guardWith({ jwt: { discovery: true, issuer, audience, algorithms: ['RS256'] } as GuardOptions['jwt'] });
    await guard.ready();
    expect(emulator().calls.map((call) => call.path).filter((path) => path.startsWith('/oidc/'))).toEqual([DISCOVERY, JWKS]);
  });

  it('under the signature scheme fetches no management token', async () => {
    fresh();
    const base = emulator().guardOptions();
    const guard = guardWith({ genauth: { ...base.genauth, authScheme: 'signature' } });
    await guard.ready();
    expect(emulator().callCount(TOKEN)).toBe(0);
  });

  it('warm.users: loads their grants at start; ready() waits for them and later checks use the cache', async () => {
    fresh();
    emulator().setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Admin'] }]);
    const guard = guardWith({ warm: { users: ['alice', 'bob', 'alice'] } });
    await guard.ready();
    expect(emulator().callCount(RESOURCES)).toBe(2);
    expect((await guard.check({ userId: 'bob', resource: 'reports', action: 'reports:Admin' })).allowed).toBe(true);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });

  it('a failed ready() is tried again by the next call, which resolves once the cause is gone', async () => {
    fresh();
    emulator().setJwksAvailable(false);
    const guard = guardWith();
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GuardNotReadyError);
    expect((error as GuardNotReadyError).code).toBe('ERR_GUARD_NOT_READY');
    expect((error as GuardNotReadyError).reasons).toEqual([expect.objectContaining({ option: 'jwt.jwksUri', kind: 'key_source_status' })]);
    emulator().setJwksAvailable(true);
    await guard.ready();
  });

  it('is on every adapter guard and the Nest service', async () => {
    fresh();
    const base = { ...emulator().guardOptions(), logger: false as const };
    const guards = [track(createExpressGuard(base)), track(createKoaGuard(base)), track(createFastifyGuard(base)), track(new GenAuthService(base))];
    for (const guard of guards) {
      const { ready } = guard as unknown as { ready(): Promise<void> };
      await ready();
    }
    expect(emulator().callCount(TOKEN)).toBe(4);
  });
});

describe('the warm option is checked like every option', () => {
  it.each([
    [{ users: 'alice' }, 'warm.users'],
    [{ users: ['alice', ''] }, 'warm.users[1]'],
    [{ users: [42] }, 'warm.users[0]'],
    // eslint-disable-next-line no-sparse-arrays
    [{ users: ['alice', , 'bob'] }, 'warm.users[1]'],
    [{ users: ['alice', ' bob'] }, 'warm.users[1]'],
    [{ users: ['al\u0000ice'] }, 'warm.users[0]'],
    [{ users: ['\u00e9'.repeat(600)] }, 'warm.users[0]'],
    [{ user: ['alice'] }, 'warm.user'],
    ['alice', 'warm'],
    [{ users: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'warm.users'],
  ])('%j is a TypeError naming %s', (warm, path) => {
    expect(() => createGuard({ ...emulator().guardOptions(), warm } as unknown as GuardOptions)).toThrow(
      new TypeError(`genauth-guard: option "${path}"`).message,
    );
  });
});

describe('docs/readiness.md', () => {
  it('the example: hold traffic until ready, print each reason', async () => {
    fresh();
    const options = emulator().guardOptions();
    const app = express();
    const printed: string[] = [];
    const console = { error: (line: string) => printed.push(line) };
    // #region ready
    const guard = createExpressGuard({ ...options, warm: { users: ['alice'] } });
    try {
      await guard.ready();
    } catch (error) {
      if (error instanceof GuardNotReadyError) {
        for (const { option, cause } of error.reasons) console.error(`genauth-guard: check ${option}: ${cause}`);
      }
      throw error;
    }
    const server = app.listen(0);
    // #endregion ready
    track(guard);
    await new Promise((resolve) => server.once('listening', resolve));
    expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
    server.close();
    expect(printed).toEqual([]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});
