// What comes back from Redis is policy input like a GenAuth body: bounded in bytes
// (genauth.maxResponseBytes), sealed with a key derived from the access key secret (someone who can
// write to Redis cannot grant), parsed, checked as ours (format, scope, user, fetch time, mark), its
// list read and indexed as GenAuth's. An oversized, unsealed, foreign or corrupt entry is a miss: GenAuth answers,
// the entry is counted, one warning per kind is logged and each is published on genauth-guard:redis.
// The entries are written straight into a real redis-server under the guard's own key.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_FORMAT, encodeEntry } from '../../src/cache/redis/entry.js';
import { tierKeys, type TierKeys } from '../../src/cache/redis/keys.js';
import { seal, sealingKey } from '../../src/cache/redis/seal.js';
import type { RedisTierEvent } from '../../src/events.js';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';
import { clients, closeInstances, freshPrefix, keepSubscribed, sharedOptions, startInstance, subscribed, type Client, type Instance } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/entries.test.ts');
const GRANT = { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' };

describe.skipIf(!run)('entries read from Redis', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  const instances: Instance[] = [];
  let client: Client;
  let names: TierKeys;
  let globalMark = '';
  let warnings: string[] = [];
  let key: Buffer;
  /** A value sealed as the guard seals its entries (so the test reaches the checks behind the seal). */
  const sealed = (text: string) => seal(key, text);

  beforeEach(async () => {
    const prefix = freshPrefix();
    resetEmulator(emulator());
    client = await open.client(redis().url);
    const { userPoolId, accessKeySecret } = emulator().guardOptions().genauth;
    key = sealingKey(accessKeySecret);
    names = tierKeys(prefix, { userPoolId, tenantId: undefined, namespace: 'default', userIdType: 'user_id', resourceType: undefined });
    globalMark = 'mark-1';
    await client.set(names.globalMark, globalMark);
    warnings = [];
  });
  afterEach(async () => {
    await closeInstances(instances);
    open.closeAll();
  });

  async function instance(maxResponseBytes?: number): Promise<Instance> {
    const own = await open.client(redis().url);
    const base = emulator().guardOptions();
    const genauth = maxResponseBytes === undefined ? base.genauth : { ...base.genauth, maxResponseBytes };
    const prefix = names.globalMark.slice(0, names.globalMark.indexOf('{'));
    const logger = { warn: (message: string) => void warnings.push(message) };
    return keepSubscribed(instances, await startInstance(sharedOptions(emulator(), own, { redisPrefix: prefix }, { genauth, logger })));
  }

  /** The JSON of a well-formed entry of `user` granting reports:Read, fetched now (unsealed). */
  function entryJson(user: string, overrides: Record<string, unknown> = {}, list: unknown = [GRANT]): string {
    const keys = names.user(user);
    const stored = encodeEntry({ scope: names.scope, user: keys.user }, { fetchedAt: Date.now(), globalMark, list }, key);
    const value = JSON.parse(stored.slice(stored.indexOf('.') + 1)) as Record<string, unknown>;
    return JSON.stringify({ ...value, ...overrides });
  }
  /** The same entry, sealed as the guard seals it. */
  const entry = (user: string, overrides: Record<string, unknown> = {}, list: unknown = [GRANT]) => sealed(entryJson(user, overrides, list));

  it('a well-formed entry is used (the control case): no GenAuth call', async () => {
    await client.set(names.user('alice').entry, entry('alice'));
    const guard = await instance();
    expect(await guard.status(await bearerFor(emulator(), 'alice'))).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('with genauth.resourceType, an entry is held to that type as GenAuth answers are (one written before that was done)', async () => {
    // An ALLOW of another type (DATA, for a guard asking GenAuth for API) was granted from Redis as sent.
    const { userPoolId } = emulator().guardOptions().genauth;
    const prefix = names.globalMark.slice(0, names.globalMark.indexOf('{'));
    names = tierKeys(prefix, { userPoolId, tenantId: undefined, namespace: 'default', userIdType: 'user_id', resourceType: 'API' });
    await client.set(names.globalMark, globalMark);
    await client.set(names.user('alice').entry, entry('alice'));
    await client.set(names.user('bob').entry, entry('bob', {}, [{ ...GRANT, resourceType: 'API' }, { ...GRANT, effect: 'DENY' }]));
    const own = await open.client(redis().url);
    const base = emulator().guardOptions();
    const started = await startInstance(sharedOptions(emulator(), own, { redisPrefix: prefix }, { genauth: { ...base.genauth, resourceType: 'API' } }));
    instances.push(started);
    await subscribed(started.guard);
    expect(await started.status(await bearerFor(emulator(), 'alice'))).toBe(403);
    // The DENY of another type still denies the API grant.
    expect(await started.status(await bearerFor(emulator(), 'bob'))).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  const corrupt: Array<[string, (user: string) => string | Buffer, string]> = [
    ['unsealed (the JSON of a valid entry alone)', (user) => entryJson(user), 'unauthenticated'],
    ['sealed with another secret', (user) => seal(sealingKey('another app\'s secret'), entryJson(user)), 'unauthenticated'],
    ['changed after it was sealed', (user) => entry(user).replace('reports:Read', 'reports:Reax'), 'unauthenticated'],
    ['a seal that is not one', (user) => `${'A'.repeat(43)}.${entryJson(user)}`, 'unauthenticated'],
    ['not JSON', () => sealed('{"format": "genauth-guard/grants@1", "list": ['), 'corrupt'],
    ['JSON but an array', () => sealed(JSON.stringify([GRANT])), 'corrupt'],
    ['JSON null', () => sealed('null'), 'corrupt'],
    ['no fetch time', (user) => entry(user, { fetchedAt: undefined }), 'corrupt'],
    ['a fetch time that is a string', (user) => entry(user, { fetchedAt: String(Date.now()) }), 'corrupt'],
    ['no list', (user) => entry(user, { list: undefined }), 'corrupt'],
    ['a list that is a number', (user) => entry(user, {}, 42), 'list'],
    ['a list that is a string', (user) => entry(user, {}, 'reports'), 'list'],
    ['invalid UTF-8 bytes behind a seal', () => Buffer.concat([Buffer.from(sealed('{').slice(0, 44)), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]), 'unauthenticated'],
    ['another format', (user) => entry(user, { format: 'genauth-guard/grants@0' }), 'foreign'],
    ['no format', (user) => entry(user, { format: undefined }), 'foreign'],
    ['another scope', (user) => entry(user, { scope: 'other-pool:default:user_id:*' }), 'foreign'],
    ['another user (bob\'s entry under alice\'s key)', () => entry('bob'), 'foreign'],
  ];

  it.each(corrupt)('%s: a miss (GenAuth answers), counted and warned once', async (_name, value, reason) => {
    const user = `user-${Math.random().toString(36).slice(2)}`; // unknown to GenAuth: denied
    await client.set(names.user(user).entry, value(user));
    const events: RedisTierEvent[] = [];
    const onEvent = (event: unknown) => void events.push(event as RedisTierEvent);
    diagnostics.subscribe('genauth-guard:redis', onEvent);
    try {
      const guard = await instance();
      const auth = await bearerFor(emulator(), user);
      expect(await guard.status(auth)).toBe(403);
      expect(emulator().callCount(RESOURCES)).toBe(1);
      expect(guard.guard.cacheStats().redis?.ignored).toBe(1);
      expect(events).toContainEqual({ event: 'ignored-entry', reason });
      expect(warnings.filter((w) => w.includes(`ignored a permission entry read from Redis (${reason})`))).toHaveLength(1);
    } finally {
      diagnostics.unsubscribe('genauth-guard:redis', onEvent);
    }
  });

  it('an entry longer than genauth.maxResponseBytes is never read: a miss', async () => {
    const big = entry('alice', {}, [{ ...GRANT, description: 'x'.repeat(4096) }]);
    await client.set(names.user('alice').entry, big);
    const guard = await instance(2048);
    expect(await guard.status(await bearerFor(emulator(), 'alice'))).toBe(403); // GenAuth: no grants for alice
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(guard.guard.cacheStats().redis?.ignored).toBe(1);
    expect(warnings.filter((w) => w.includes('(oversized)'))).toHaveLength(1);
  });

  it('a "__proto__" key in an entry pollutes nothing', async () => {
    await client.set(names.user('alice').entry, sealed(entryJson('alice').replace('{', '{"__proto__":{"polluted":true},')));
    const guard = await instance();
    expect(await guard.status(await bearerFor(emulator(), 'alice'))).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a key of another type (a hash) under the entry key: a miss', async () => {
    await client.hSet(names.user('alice').entry, { format: ENTRY_FORMAT, list: JSON.stringify([GRANT]) });
    const guard = await instance();
    expect(await guard.status(await bearerFor(emulator(), 'alice'))).toBe(403);
    expect(guard.guard.cacheStats().redis?.ignored).toBe(1);
  });

  it('warns once per kind, however many entries are ignored', async () => {
    const guard = await instance();
    for (let i = 0; i < 5; i++) {
      const user = `corrupt-${i}`;
      await client.set(names.user(user).entry, sealed('garbage'));
      expect(await guard.status(await bearerFor(emulator(), user))).toBe(403);
    }
    expect(guard.guard.cacheStats().redis?.ignored).toBe(5);
    expect(warnings.filter((w) => w.includes('(corrupt)'))).toHaveLength(1);
  });

  it('an entry loaded before an invalidateAll (an old global mark) is not used, nor counted as corrupt', async () => {
    await client.set(names.user('alice').entry, entry('alice', { globalMark: 'mark-0' }));
    const guard = await instance();
    expect(await guard.status(await bearerFor(emulator(), 'alice'))).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(guard.guard.cacheStats().redis?.ignored).toBe(0);
  });

  // The same list decides the same way whether GenAuth sent it or Redis held it.
  const lists: Array<[string, unknown[], number]> = [
    ['actions as one string (unreadable: fails closed)', [{ ...GRANT, actions: 'reports:Read' }], 403],
    ['a DENY beside the ALLOW', [GRANT, { ...GRANT, effect: 'DENY' }], 403],
    ['an effect in lower case', [{ ...GRANT, effect: 'allow' }], 200],
    ['junk entries around the grant', [null, 7, 'x', [], GRANT], 200],
    ['an entry with no resourceCode', [{ actions: ['reports:Read'] }], 403],
    ['a malformed condition on an ALLOW', [{ ...GRANT, condition: [{ param: 'SourceIp', operator: 'Nope', value: ['x'] }] }], 403],
  ];

  it.each(lists)('%s: decided as GenAuth\'s list is', async (_name, list, expected) => {
    emulator().setRawGrants('from-genauth', list);
    await client.set(names.user('from-redis').entry, entry('from-redis', {}, list));
    const guard = await instance();
    const viaGenAuth = await guard.status(await bearerFor(emulator(), 'from-genauth'));
    const viaRedis = await guard.status(await bearerFor(emulator(), 'from-redis'));
    expect(viaGenAuth).toBe(expected);
    expect(viaRedis).toBe(viaGenAuth);
    expect(emulator().callCount(RESOURCES)).toBe(1); // only from-genauth's
  });
});
