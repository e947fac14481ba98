// Option values: every group's checks, in the one format (`genauth-guard: option "<path>" ...`, a
// TypeError at construction), the defaults they fill, and the two clocks (`clock` for durations,
// `now` for dates).
import { describe, expect, it } from 'vitest';
import { createGuard, type GuardOptions } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'] as const };
const base: GuardOptions = { genauth, jwt };

type Change = (o: GuardOptions) => unknown;
const inGenAuth = (extra: Record<string, unknown>): Change => (o) => ({ ...o, genauth: { ...o.genauth, ...extra } });
const inJwt = (extra: Record<string, unknown>): Change => (o) => ({ ...o, jwt: { ...o.jwt, ...extra } });

function messageOf(change: Change): string {
  try {
    resolveOptions(change(base) as GuardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return 'accepted';
}

describe('a wrong value names its option', () => {
  it.each<[string, Change]>([
    ['genauth.host', inGenAuth({ host: 'ftp://x' })],
    ['genauth.headerPrefix', inGenAuth({ headerPrefix: 'authing' })],
    ['genauth.tenantHeader', inGenAuth({ tenantHeader: 'bad header' })],
    ['genauth.tenantId', inGenAuth({ tenantId: 'tenant\n1' })],
    ['genauth.namespace', inGenAuth({ namespace: '' })],
    ['genauth.resourceType', inGenAuth({ resourceType: 'FILE' })],
    ['genauth.userIdType', inGenAuth({ userIdType: 'uid' })],
    ['genauth.maxResponseBytes', inGenAuth({ maxResponseBytes: 0 })],
    ['genauth.connections', inGenAuth({ connections: Number.POSITIVE_INFINITY })],
    ['genauth.retries', inGenAuth({ retries: -1 })],
    ['genauth.maxRetryAfter', inGenAuth({ maxRetryAfter: 0 })],
    ['genauth.maxRetryAfter', inGenAuth({ maxRetryAfter: Number.POSITIVE_INFINITY })],
    ['genauth.dispatcher', inGenAuth({ dispatcher: 'pool' })],
    ['genauth.signatureScheme', inGenAuth({ signatureScheme: '' })],
    ['jwt.jwksUri', inJwt({ jwksUri: 'not a url' })],
    ['jwt.audience', inJwt({ audience: [] })],
    ['jwt.audience[1]', inJwt({ audience: ['a', ''] })],
    // eslint-disable-next-line no-sparse-arrays
    ['jwt.audience[0]', inJwt({ audience: [, 'a'] })],
    // eslint-disable-next-line no-sparse-arrays
    ['jwt.requiredClaims[1]', inJwt({ requiredClaims: ['tenant', , 'org'] })],
    ['jwt.requiredClaims', inJwt({ requiredClaims: 'tenant' })],
    ['jwt.clockTolerance', inJwt({ clockTolerance: -5 })],
    ['jwt.jwks.timeoutDuration', inJwt({ jwks: { timeoutDuration: 0 } })],
    ['jwt.tokenCache.maxAge', inJwt({ tokenCache: { maxAge: 0 } })],
    ['jwt.tokenCache.max', inJwt({ tokenCache: { max: -1 } })],
    ['identity.maxLength', (o) => ({ ...o, identity: { maxLength: 1.5 } })],
    ['cache', (o) => ({ ...o, cache: [] })],
    ['cache.maxStale', (o) => ({ ...o, cache: { maxStale: -1 } })],
    ['cache.maxBytes', (o) => ({ ...o, cache: { maxBytes: 0.5 } })],
    ['cache.maxEntryBytes', (o) => ({ ...o, cache: { maxEntryBytes: 0.5 } })],
    ['cache.max', (o) => ({ ...o, cache: { max: 0.5 } })],
    ['cache.staleWhileRevalidate', (o) => ({ ...o, cache: { staleWhileRevalidate: 1 } })],
    ['cache.errorTtl', (o) => ({ ...o, cache: { errorTtl: Number.NaN } })],
    ['conditions.trustProxy', (o) => ({ ...o, conditions: { trustProxy: -1 } })],
    ['conditions.context', (o) => ({ ...o, conditions: { context: { Country: 'NZ' } } })],
    ['conditions.timeZoneOffset', (o) => ({ ...o, conditions: { timeZoneOffset: 'Asia/Shanghai' } })],
    ['conditions.timeZoneOffset', (o) => ({ ...o, conditions: { timeZoneOffset: '+8' } })],
    ['conditions.timeZoneOffset', (o) => ({ ...o, conditions: { timeZoneOffset: '+24:00' } })],
    ['conditions.timeZoneOffset', (o) => ({ ...o, conditions: { timeZoneOffset: 8 } })],
    ['conditions.timeoutDuration', (o) => ({ ...o, conditions: { timeoutDuration: 0 } })],
    ['conditions.timeoutDuration', (o) => ({ ...o, conditions: { timeoutDuration: '5000' } })],
    ['conditions.timeoutDuration', (o) => ({ ...o, conditions: { timeoutDuration: Number.NaN } })],
    ['conditions.combine', (o) => ({ ...o, conditions: { combine: 'or' } })],
    ['conditions.combine', (o) => ({ ...o, conditions: { combine: 'All' } })],
    ['conditions.combine', (o) => ({ ...o, conditions: { combine: true } })],
    ['conditions.combine', (o) => ({ ...o, conditions: { combine: null } })],
    ['realm', (o) => ({ ...o, realm: 'api"\r\nx' })],
    ['retryAfter', (o) => ({ ...o, retryAfter: 0 })],
    ['logger', (o) => ({ ...o, logger: console.warn })],
    ['clock', (o) => ({ ...o, clock: Date.now })],
    ['clock', (o) => ({ ...o, clock: { now: 5 } })],
    ['clock', (o) => ({ ...o, clock: { now: () => 0 } })],
    ['clock', (o) => ({ ...o, clock: { now: () => -1 } })],
    ['clock', (o) => ({ ...o, clock: { now: () => Number.NaN } })],
    ['clock', (o) => ({ ...o, clock: { now: () => '1' } })],
    ['now', (o) => ({ ...o, now: 1_700_000_000_000 })],
  ])('%s', (path, change) => {
    expect(messageOf(change)).toMatch(new RegExp(`^genauth-guard: option "${path.replace(/[.[\]]/g, '\\$&')}" `));
  });

  it('a value is never echoed in the message', () => {
    expect(messageOf(inGenAuth({ accessKeySecret: 42 }))).not.toContain('42');
    expect(messageOf((o) => ({ ...o, realm: 'secret-realm\n' }))).not.toContain('secret-realm');
  });
});

describe('defaults', () => {
  it('fills every group, frozen', () => {
    const options = resolveOptions(base);
    expect(options.genauth).toMatchObject({ namespace: 'default', userIdType: 'user_id', timeout: 3000, retries: 2, authScheme: 'token', maxRetryAfter: 60 });
    expect(options.cache).toMatchObject({ ttl: 60_000, maxStale: 300_000, errorTtl: 1000, staleWhileRevalidate: true });
    expect(options.jwt?.tokenCache).toEqual({ max: 10_000, maxAge: 300_000 });
    expect(options.identity).toEqual({ claim: 'sub', maxLength: 1024 });
    expect(options.conditions).toMatchObject({ trustProxy: 0, timeoutDuration: 5000, combine: 'unknown' });
    expect([options.realm, options.retryAfter]).toEqual(['api', 5]);
    for (const part of [options, options.genauth, options.jwt, options.cache, options.identity, options.conditions]) expect(Object.isFrozen(part)).toBe(true);
  });
});

describe('cache durations and sizes lru-cache takes', () => {
  it('fractional ttls are rounded up to whole milliseconds, and the guard builds with them', async () => {
    const options = resolveOptions({ ...base, cache: { ttl: 1500.5, errorTtl: 0.5, maxBytes: 4096.9, max: 10.5 } });
    expect(options.cache).toMatchObject({ ttl: 1501, errorTtl: 1, maxBytes: 4096, max: 10 });
    const guard = createGuard({ ...base, cache: { ttl: 1500.5, errorTtl: 0.5 } });
    await guard.close();
  });
});

describe('the two clocks', () => {
  it('by default: performance for durations, Date.now for dates', () => {
    const options = resolveOptions(base);
    expect(options.clock).toBe(performance);
    expect(options.now).toBe(Date.now);
  });

  it('a clock alone: dates follow it from the time of creation', () => {
    let at = 5_000;
    const before = Date.now();
    const options = resolveOptions({ ...base, clock: { now: () => at } });
    const after = Date.now();
    expect(options.now()).toBeGreaterThanOrEqual(before);
    expect(options.now()).toBeLessThanOrEqual(after);
    at += 3_600_000;
    expect(options.now()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(options.now()).toBeLessThanOrEqual(after + 3_600_000);
  });

  it('a clock and a now: each as given', () => {
    const clock = { now: () => 42 };
    const now = () => 1_700_000_000_000;
    const options = resolveOptions({ ...base, clock, now });
    expect(options.clock).toBe(clock);
    expect(options.now).toBe(now);
  });

  it('guard.options shows the clocks (no secret there)', async () => {
    const clock = { now: () => 42 };
    const guard = createGuard({ ...base, clock });
    expect(guard.options.clock).toBe(clock);
    await guard.close();
  });
});
