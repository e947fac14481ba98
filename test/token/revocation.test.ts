// Revocation-aware tokens: the in-process store, the verifier's check on both paths (a record that
// arrives without the guard's own revokeUser, as a shared store's would, still refuses a cached token),
// the guard's revokeUser, the record's lifetime and jwt.maxTokenAge.
import { describe, expect, it } from 'vitest';
import { createGuard, isGuardError, type Guard } from '../../src/index.js';
import { createMemoryRevocations, type RevocationStore } from '../../src/token/revocations.js';
import { createTokenVerifier } from '../../src/token/verifier.js';
import { resolveOptions } from '../../src/options.js';
import { manualClock } from '../clock.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const bearer = (token: string) => ({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } });
const seconds = () => Math.floor(Date.now() / 1000);

async function outcome(run: () => unknown): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (isGuardError(error)) return `${error.status} ${(error as { reason?: string }).reason ?? error.code}`;
    throw error;
  }
}

describe('the in-process revocation store', () => {
  it('keeps the later time of a user, each record for ttl, and is inactive once they are gone', () => {
    let now = 1_000_000;
    const store = createMemoryRevocations({ ttl: 10_000, max: 10, now: () => now });
    expect(store.active).toBe(false);
    store.revoke('alice', 5_000);
    store.revoke('alice', 4_000);
    expect(store.active).toBe(true);
    expect(store.revokedBefore('alice')).toBe(5_000);
    expect(store.revokedBefore('bob')).toBeUndefined();
    now += 10_000;
    expect(store.revokedBefore('alice')).toBeUndefined();
    expect(store.active).toBe(false);
  });

  it('past max, the oldest record becomes a watermark for every user: nothing revoked is let through early', () => {
    let now = 1_000_000;
    const store = createMemoryRevocations({ ttl: 10_000, max: 2, now: () => now });
    store.revoke('a', 100);
    now += 1_000;
    store.revoke('b', 200);
    store.revoke('c', 300);
    expect(store.revokedBefore('a')).toBe(100); // folded: the watermark still refuses a's old tokens
    expect(store.revokedBefore('zed')).toBe(100); // and everyone's as old
    expect(store.revokedBefore('c')).toBe(300);
    now += 9_000; // the folded record's own lifetime is over
    expect(store.revokedBefore('zed')).toBeUndefined();
    expect(store.revokedBefore('b')).toBe(200);
  });
});

describe('the verifier and revocations', () => {
  /** A store whose records arrive from outside, as a shared store's do, counting its lookups. */
  function externalStore(): RevocationStore & { lookups: number; set(userId: string, at: number): void } {
    const records = new Map<string, number>();
    const store = {
      active: false,
      lookups: 0,
      revokedBefore(userId: string) {
        store.lookups += 1;
        return records.get(userId);
      },
      revoke(userId: string, at: number) {
        records.set(userId, at);
        store.active = true;
      },
      set(userId: string, at: number) {
        store.revoke(userId, at);
      },
    };
    return store;
  }

  it('a cached token is refused once a record arrives, without the guard forgetting it; no lookup while none exists', async () => {
    const options = resolveOptions(emulator().guardOptions());
    const store = externalStore();
    const verifier = createTokenVerifier(options.jwt!, options.identity, options, store);
    const token = await emulator().mintToken('alice');
    const later = await emulator().mintToken('alice', { claims: { iat: seconds() + 2 } });
    const noIat = await emulator().mintToken('alice', { claims: { iat: undefined } });
    expect((await verifier.verifyNow(token)).userId).toBe('alice');
    expect(verifier.peek(token)?.userId).toBe('alice'); // cached
    expect(store.lookups).toBe(0);
    store.set('alice', Date.now());
    expect(verifier.peek(token)).toBeUndefined();
    expect(await outcome(() => verifier.verifyNow(token))).toBe('401 revoked');
    expect(await outcome(() => verifier.verifyNow(noIat))).toBe('401 revoked');
    expect(await outcome(() => verifier.verifyNow(later))).toBe('ok');
    const bob = await emulator().mintToken('bob');
    expect(await outcome(() => verifier.verifyNow(bob))).toBe('ok');
  });
});

describe('guard.revokeUser', () => {
  const guards: Guard[] = [];
  const guardWith = (extra: Record<string, unknown> = {}) => {
    const guard = createGuard({ ...emulator().guardOptions(), ...extra });
    guards.push(guard);
    return guard;
  };

  it('refuses the user\'s tokens issued until now, cached or not, for revocation.ttl; later tokens pass', async () => {
    const { clock, advance } = manualClock();
    const start = Date.now();
    const guard = guardWith({ clock, now: () => start + clock.now() - 1_000_000, revocation: { ttl: 60_000 } });
    const token = await emulator().mintToken('alice', { claims: { iat: Math.floor(start / 1000) }, expiresIn: 3600 });
    expect(await outcome(() => guard.authenticate(bearer(token)))).toBe('ok');
    expect(guard.revokeUser('alice')).toBeUndefined();
    expect(await outcome(() => guard.authenticate(bearer(token)))).toBe('401 revoked');
    advance(59_000);
    expect(await outcome(() => guard.authenticate(bearer(token)))).toBe('401 revoked');
    advance(1_000);
    expect(await outcome(() => guard.authenticate(bearer(token)))).toBe('ok'); // the record is gone
  });

  it.each([undefined, '', 42])('throws a TypeError for the user id %j', (userId) => {
    expect(() => guardWith().revokeUser(userId as string)).toThrow(TypeError);
  });

  it('revocation.ttl defaults to jwt.maxTokenAge, else 14 days, plus clockTolerance and 1 s; maxTokenAge refuses older tokens', async () => {
    const { jwt } = emulator().guardOptions();
    expect(guardWith().options.revocation).toEqual({ ttl: 14 * 24 * 3600 * 1000 + 6_000, max: 100_000 });
    const bounded = guardWith({ jwt: { ...jwt, maxTokenAge: 600 } });
    expect(bounded.options.revocation.ttl).toBe(606_000);
    expect(guardWith({ jwt: { ...jwt, maxTokenAge: 600, clockTolerance: 0 } }).options.revocation.ttl).toBe(601_000);
    const old = await emulator().mintToken('alice', { claims: { iat: seconds() - 700 } });
    expect(await outcome(() => bounded.authenticate(bearer(old)))).toBe('401 expired'); // jose: too old is expired
    const noIat = await emulator().mintToken('alice', { claims: { iat: undefined } });
    expect(await outcome(() => bounded.authenticate(bearer(noIat)))).toBe('401 claim_invalid');
    const fresh = await emulator().mintToken('alice');
    expect(await outcome(() => bounded.authenticate(bearer(fresh)))).toBe('ok');
  });

  it.each([
    [{ revocation: { ttl: 0 } }, 'revocation.ttl'],
    [{ revocation: { max: 1.5 } }, 'revocation.max'],
    [{ revocation: { tll: 1 } }, 'revocation.tll'],
    [{ revocation: 'forever' }, 'revocation'],
  ])('refuses %j naming %s', (extra, path) => {
    expect(() => guardWith(extra)).toThrow(`genauth-guard: option "${path}"`);
  });

  it.each([0, -1, Number.NaN, '1h'])('refuses jwt.maxTokenAge %j', (maxTokenAge) => {
    expect(() => guardWith({ jwt: { ...emulator().guardOptions().jwt, maxTokenAge } })).toThrow('genauth-guard: option "jwt.maxTokenAge"');
  });

  it('cleanup', async () => {
    await Promise.all(guards.splice(0).map((guard) => guard.close()));
  });
});
