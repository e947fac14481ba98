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

describe('ready() as a readiness probe: not ready until the key source and GenAuth have both answered', () => {
  /** What one probe says: ready, or the (option, kind) of each reason. */
  async function probe(guard: Guard): Promise<'ready' | string[]> {
    return guard.ready().then(
      () => 'ready' as const,
      (error: unknown) => {
        expect(error).toBeInstanceOf(GuardNotReadyError);
        return (error as GuardNotReadyError).reasons.map((reason) => `${reason.option} ${reason.kind}`);
      },
    );
  }

  it('GenAuth down, then the key set down, then both up: not ready, not ready, ready (and stays so, as documented)', async () => {
    fresh();
    const guard = guardWith();
    emulator().fault({ kind: 'status', status: 503, path: TOKEN });
    expect(await probe(guard)).toEqual([expect.stringMatching(/^genauth\.host /)]);
    emulator().clearFaults();
    // The key set is fetched again by each run, though it answered the last one.
    emulator().setJwksAvailable(false);
    expect(await probe(guard)).toEqual(['jwt.jwksUri key_source_status']);
    emulator().setJwksAvailable(true);
    expect(await probe(guard)).toBe('ready');
    emulator().setJwksAvailable(false);
    emulator().resetCalls();
    expect(await probe(guard)).toBe('ready');
    expect(emulator().callCount()).toBe(0);
    emulator().setJwksAvailable(true);
  });

  it('with discovery: a discovery document that fails keeps it not ready, though the token came', async () => {
    fresh();
    const { issuer, audience } = emulator().guardOptions().jwt;
    const guard = guardWith({ jwt: { discovery: true, issuer, audience, algorithms: ['RS256'] } as GuardOptions['jwt'] });
    emulator().fault({ kind: 'status', status: 503, path: DISCOVERY, times: 1 });
    expect(await probe(guard)).toEqual(['jwt.issuer key_source_status']);
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(await probe(guard)).toBe('ready');
  });

  it('with nothing answering (discovery, key set, token and grants all hang): it settles, each step a timeout', async () => {
    fresh();
    const { issuer, audience } = emulator().guardOptions().jwt;
    const base = emulator().guardOptions();
    for (const path of [DISCOVERY, TOKEN, RESOURCES]) emulator().fault({ kind: 'hang', path });
    const guard = guardWith({
      jwt: { discovery: true, issuer, audience, algorithms: ['RS256'], jwks: { timeoutDuration: 300 } } as GuardOptions['jwt'],
      genauth: { ...base.genauth, timeout: 300, retries: 0 },
      warm: { users: ['alice'] },
      // A failed load is remembered for errorTtl (1 s on the guard's clock): the last probe must load anew.
      cache: { errorTtl: 0 },
    });
    expect(await probe(guard)).toEqual(['jwt.issuer timeout', 'genauth.host timeout']);
    // The discovery document answers now, the key set it names hangs: that step times out too.
    emulator().clearFaults();
    for (const path of [JWKS, TOKEN]) emulator().fault({ kind: 'hang', path });
    expect(await probe(guard)).toEqual(['jwt.issuer timeout', 'genauth.host timeout']);
    // Headers at once, then a byte every 100 ms: the key set's and the token's bodies never end in time
    // (the discovery document, read once, is not fetched again).
    emulator().clearFaults();
    for (const path of [JWKS, TOKEN]) emulator().fault({ kind: 'slow-body', chunkBytes: 1, intervalMs: 100, path });
    expect(await probe(guard)).toEqual(['jwt.issuer timeout', 'genauth.host timeout']);
    emulator().clearFaults();
    expect(await probe(guard)).toBe('ready');
  });

  it('with no route to GenAuth or the key set (a host that never answers a connection): it settles within the timeouts', async () => {
    fresh();
    const base = emulator().guardOptions();
    // TEST-NET-1 (RFC 5737): never routed; a connection to it is dropped, refused or never answered.
    const nowhere = 'http://192.0.2.1:9';
    const guard = guardWith({
      jwt: { ...base.jwt, jwksUri: `http://192.0.2.1:8080/jwks.json`, jwks: { timeoutDuration: 300 } } as GuardOptions['jwt'],
      genauth: { ...base.genauth, host: nowhere, timeout: 300, retries: 0 },
    });
    const reasons = await probe(guard);
    expect(reasons).not.toBe('ready');
    expect((reasons as string[]).map((reason) => reason.split(' ')[0])).toEqual(['jwt.jwksUri', 'genauth.host']);
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
