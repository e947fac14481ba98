// The shared tier's options: `cache.redis` (the user's own node-redis client, taken as is, never
// key-checked, shown redacted), `cache.redisPrefix`, `cache.redisTimeout`, `cache.redisMaxUnsubscribed`, `cache.redisHeartbeat`; a mistake is a TypeError
// naming the option. These need no redis-server: the client is never connected.
import { createClient, createCluster } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard, type CacheOptions, type Guard, type GuardOptions, type RedisTierClient } from '../../src/index.js';

const base = {
  genauth: { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' },
  jwt: { secret: 'k'.repeat(32), algorithms: ['HS256'] },
  logger: false,
} satisfies Omit<GuardOptions, 'cache'>;

/** A client of an address nothing listens on: never connected by the test, only duplicated by the guard. */
const unreachable = () => {
  const client = createClient({ url: 'redis://127.0.0.1:1', socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  return client;
};

let guards: Guard[] = [];
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  guards = [];
});
const guardWith = (cache: unknown) => {
  const guard = createGuard({ ...base, cache } as GuardOptions);
  guards.push(guard);
  return guard;
};

describe('cache.redis', () => {
  it('node-redis clients and cluster clients fit the option type', () => {
    const options: CacheOptions[] = [
      { redis: createClient() },
      { redis: createClient({ RESP: 3 }) },
      { redis: createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] }) },
    ];
    const clients: RedisTierClient[] = options.map((option) => option.redis as RedisTierClient);
    expect(clients).toHaveLength(3);
  });

  it.each([
    ['a string', 'redis://127.0.0.1:6379'],
    ['null', null],
    ['an options object', { url: 'redis://127.0.0.1:6379' }],
    ['an object missing publish', { eval: () => {}, get: () => {}, duplicate: () => {} }],
  ])('%s is refused, naming cache.redis', (_name, redis) => {
    expect(() => guardWith({ redis })).toThrow(TypeError);
    expect(() => guardWith({ redis })).toThrow(/^genauth-guard: option "cache\.redis" must be a node-redis v6 client/);
  });

  it('the client is taken as is: its own keys are never checked', () => {
    expect(() => guardWith({ redis: unreachable() })).not.toThrow();
  });

  it('guard.options shows the client redacted (its options hold the password), and serializes', () => {
    const guard = guardWith({ redis: unreachable() });
    expect((guard.options.cache as { redis: unknown }).redis).toBe('[redacted]');
    expect(() => JSON.stringify(guard.options)).not.toThrow();
    expect(guardWith({}).options.cache).toMatchObject({ redis: undefined, redisPrefix: 'genauth-guard:', redisTimeout: 100 });
  });
});

describe('cache.redisPrefix and cache.redisTimeout', () => {
  it.each([[''], ['has space'], ['x'.repeat(201)], [42], ['tab\t']])('redisPrefix %j is refused', (redisPrefix) => {
    expect(() => guardWith({ redisPrefix })).toThrow(/^genauth-guard: option "cache\.redisPrefix" /);
  });

  it.each([[0], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['100']])('redisTimeout %j is refused', (redisTimeout) => {
    expect(() => guardWith({ redisTimeout })).toThrow(/^genauth-guard: option "cache\.redisTimeout" must be a finite number > 0$/);
  });

  it('a misspelt key is pointed to the right one', () => {
    expect(() => guardWith({ redisPrefx: 'app:' })).toThrow('did you mean "cache.redisPrefix"?');
  });
});

describe('cache.redisMaxUnsubscribed', () => {
  it.each([[0], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['100'], [true], [null]])('%j is refused', (redisMaxUnsubscribed) => {
    expect(() => guardWith({ redisMaxUnsubscribed })).toThrow(/^genauth-guard: option "cache\.redisMaxUnsubscribed" must be a finite number > 0 \(ms\) or false$/);
  });

  it('longer than a timer waits is refused', () => {
    expect(() => guardWith({ redisMaxUnsubscribed: 2 ** 31 })).toThrow(/^genauth-guard: option "cache\.redisMaxUnsubscribed" must be at most 2147483647/);
  });

  it('is cache.ttl by default (at most the longest a timer waits); a number or false is taken', () => {
    expect(guardWith({}).options.cache).toMatchObject({ ttl: 60_000, redisMaxUnsubscribed: 60_000 });
    expect(guardWith({ ttl: 5000 }).options.cache).toMatchObject({ redisMaxUnsubscribed: 5000 });
    expect(guardWith({ ttl: 2 ** 32 }).options.cache).toMatchObject({ redisMaxUnsubscribed: 2 ** 31 - 1 });
    expect(guardWith({ redisMaxUnsubscribed: 250 }).options.cache).toMatchObject({ redisMaxUnsubscribed: 250 });
    expect(guardWith({ redisMaxUnsubscribed: false }).options.cache).toMatchObject({ redisMaxUnsubscribed: false });
  });
});

describe('cache.redisHeartbeat', () => {
  it.each([[0], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['5000'], [true], [null]])('%j is refused', (redisHeartbeat) => {
    expect(() => guardWith({ redisHeartbeat })).toThrow(/^genauth-guard: option "cache\.redisHeartbeat" must be a finite number > 0 \(ms\) or false$/);
  });

  it('longer than a timer waits is refused', () => {
    expect(() => guardWith({ redisHeartbeat: 2 ** 31 })).toThrow(/^genauth-guard: option "cache\.redisHeartbeat" must be at most 2147483647/);
  });

  it('no longer than cache.redisTimeout is refused (a heartbeat could not be heard back before the next)', () => {
    expect(() => guardWith({ redisHeartbeat: 100 })).toThrow(/^genauth-guard: option "cache\.redisHeartbeat" must be longer than cache\.redisTimeout/);
    expect(() => guardWith({ redisTimeout: 2000, redisHeartbeat: 2000 })).toThrow(/^genauth-guard: option "cache\.redisHeartbeat" must be longer than cache\.redisTimeout/);
    expect(() => guardWith({ redisTimeout: 2000, redisHeartbeat: 2001 })).not.toThrow();
  });

  it('is 5000 by default, or twice cache.redisTimeout when longer; a number or false is taken', () => {
    expect(guardWith({}).options.cache).toMatchObject({ redisHeartbeat: 5000 });
    expect(guardWith({ redisTimeout: 4000 }).options.cache).toMatchObject({ redisHeartbeat: 8000 });
    expect(guardWith({ redisTimeout: 2 ** 31 - 1 }).options.cache).toMatchObject({ redisHeartbeat: 2 ** 31 - 1 });
    expect(guardWith({ redisHeartbeat: 250 }).options.cache).toMatchObject({ redisHeartbeat: 250 });
    expect(guardWith({ redisHeartbeat: false }).options.cache).toMatchObject({ redisHeartbeat: false });
  });

  it('a misspelt key is pointed to the right one', () => {
    expect(() => guardWith({ redisHeartbeet: 1000 })).toThrow('did you mean "cache.redisHeartbeat"?');
  });
});

describe('without cache.redis', () => {
  it('invalidateUser and invalidateAll return nothing, as before', () => {
    const guard = guardWith({});
    expect(guard.invalidateUser('alice')).toBeUndefined();
    expect(guard.invalidateAll()).toBeUndefined();
    expect(guard.cacheStats()).toEqual({ entries: 0, bytes: 0, users: 0, sets: 0 });
  });
});
