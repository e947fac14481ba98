// Shared grant sets: users whose GenAuth lists are identical hold one interned set, indexed once and
// charged once against cache.maxBytes; a set leaves with its last user, and one user's invalidation
// or change never alters another user's answers. Over HTTP (Express app, emulator on loopback), with
// the table's own units (collisions, counts) at the end.
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { createGrantSetTable, LARGE_TEXT, textOf, type GrantSet, type GrantSetTable } from '../../src/cache/grant-sets.js';
import type { GrantInput } from '../../src/testing/index.js';
import { closeAfterEach, RESOURCES, useEmulator, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => {
  resetEmulator(emulator());
});

/** 100 grants on reports:<i>, reading only; `extra` makes a list of its own. */
function readers(extra?: GrantInput): GrantInput[] {
  const list: GrantInput[] = Array.from({ length: 100 }, (_, i) => ({ resourceCode: `reports:${i}`, actions: ['reports:Read'] }));
  if (extra !== undefined) list.push(extra);
  return list;
}

/** An app whose one route asks for `reports:Read` (or `reports:Write` on /w) on reports:<id>. */
function app(options: Pick<ExpressGuardOptions, 'cache'> = {}) {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: false, ...options }));
  const server = express();
  server.get('/r/:id', guard.requirePermission((req) => `reports:${req.params.id}`, 'reports:Read'), (_req, res) => void res.send('ok'));
  server.get('/w/:id', guard.requirePermission((req) => `reports:${req.params.id}`, 'reports:Write'), (_req, res) => void res.send('ok'));
  return { server, guard };
}

const as = async (user: string) => `Bearer ${await emulator().mintToken(user)}`;
const read = async (server: express.Express, user: string, id: number | string = 7) => (await request(server).get(`/r/${id}`).set('authorization', await as(user))).status;
const write = async (server: express.Express, user: string, id: number | string = 7) => (await request(server).get(`/w/${id}`).set('authorization', await as(user))).status;

describe('shared grant sets', () => {
  it('users with equal lists share one set: charged once plus a small record per user', async () => {
    const { server, guard } = app();
    for (let u = 0; u < 10; u++) emulator().setGrants(`user-${u}`, readers());
    expect(await read(server, 'user-0')).toBe(200);
    const one = guard.core.cacheStats();
    expect(one).toMatchObject({ entries: 1, users: 1, sets: 1 });
    for (let u = 1; u < 10; u++) expect(await read(server, `user-${u}`)).toBe(200);
    const ten = guard.core.cacheStats();
    expect(ten).toMatchObject({ entries: 10, users: 10, sets: 1 });
    // Nine more users cost nine records, each far below a set of 100 grants.
    const perUser = (ten.bytes - one.bytes) / 9;
    expect(perUser).toBeGreaterThan(0);
    expect(perUser).toBeLessThan(1_000);
    expect(one.bytes).toBeGreaterThan(20 * perUser);
  });

  it('users with equal large lists (packed off the event loop) share one set and are decided from it', async () => {
    const { server, guard } = app();
    const list: GrantInput[] = Array.from({ length: 3_000 }, (_, i) => ({ resourceCode: `reports:${i}`, actions: ['reports:Read'] }));
    emulator().setGrants('big-1', list);
    emulator().setGrants('big-2', list);
    emulator().setGrants('big-3', [...list, { resourceCode: 'reports:7', actions: ['reports:Write'] }]);
    expect(await read(server, 'big-1', 2_999)).toBe(200);
    expect(await write(server, 'big-1', 7)).toBe(403);
    expect(await read(server, 'big-2', 0)).toBe(200);
    expect(await read(server, 'big-2', 3_000)).toBe(403);
    expect(guard.core.cacheStats()).toMatchObject({ users: 2, sets: 1 });
    expect(await write(server, 'big-3', 7)).toBe(200);
    expect(guard.core.cacheStats()).toMatchObject({ users: 3, sets: 2 });
  });

  it('different lists never share, however close', async () => {
    const { server, guard } = app();
    emulator().setGrants('reader', readers());
    emulator().setGrants('writer', readers({ resourceCode: 'reports:7', actions: ['reports:Write'] }));
    emulator().setGrants('other-type', readers().map((g, i) => (i === 99 ? { ...g, resourceType: 'API' as const } : g)));
    expect(await write(server, 'reader')).toBe(403);
    expect(await write(server, 'writer')).toBe(200);
    expect(await write(server, 'other-type')).toBe(403);
    expect(await read(server, 'other-type', 99)).toBe(200);
    expect(guard.core.cacheStats()).toMatchObject({ users: 3, sets: 3 });
    // Each answered from its own set, warm.
    emulator().resetCalls();
    expect(await write(server, 'reader')).toBe(403);
    expect(await write(server, 'writer')).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('a user moving to another set leaves the shared one to the others, who keep their answers', async () => {
    const { server, guard } = app();
    for (const user of ['ann', 'ben', 'cid']) emulator().setGrants(user, readers());
    for (const user of ['ann', 'ben', 'cid']) expect(await write(server, user)).toBe(403);
    expect(guard.core.cacheStats()).toMatchObject({ users: 3, sets: 1 });

    emulator().setGrants('ann', readers({ resourceCode: 'reports:7', actions: ['reports:Write'] }));
    guard.invalidateUser('ann');
    expect(await write(server, 'ann')).toBe(200);
    expect(guard.core.cacheStats()).toMatchObject({ users: 3, sets: 2 });
    emulator().resetCalls();
    expect(await write(server, 'ben')).toBe(403);
    expect(await write(server, 'cid')).toBe(403);
    expect(emulator().callCount(RESOURCES)).toBe(0);

    // Back to the shared list: she joins the set the others hold; hers goes with her.
    emulator().setGrants('ann', readers());
    guard.invalidateUser('ann');
    expect(await write(server, 'ann')).toBe(403);
    expect(guard.core.cacheStats()).toMatchObject({ users: 3, sets: 1 });
  });

  it('invalidating one user of a shared set leaves the others warm, with the same answers', async () => {
    const { server, guard } = app();
    emulator().setGrants('ann', readers());
    emulator().setGrants('ben', readers());
    expect(await read(server, 'ann')).toBe(200);
    expect(await read(server, 'ben')).toBe(200);
    // Ann's grants are revoked upstream and her cache entry dropped; Ben's list is unchanged.
    emulator().setGrants('ann', []);
    guard.invalidateUser('ann');
    emulator().resetCalls();
    expect(await read(server, 'ben')).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(0);
    expect(await read(server, 'ann')).toBe(403);
    expect(await read(server, 'ben')).toBe(200);
    expect(guard.core.cacheStats()).toMatchObject({ users: 2, sets: 2 });
  });

  it('the last user of a set takes it away: invalidation, then eviction', async () => {
    const { server, guard } = app();
    emulator().setGrants('ann', readers());
    emulator().setGrants('ben', readers());
    expect(await read(server, 'ann')).toBe(200);
    expect(await read(server, 'ben')).toBe(200);
    guard.invalidateUser('ann');
    expect(guard.core.cacheStats()).toMatchObject({ users: 1, sets: 1 });
    guard.invalidateUser('ben');
    expect(guard.core.cacheStats()).toMatchObject({ users: 0, sets: 0, bytes: 0 });

    // Eviction: a budget that holds one set and a few users, not two sets.
    expect(await read(server, 'ann')).toBe(200);
    const oneSet = guard.core.cacheStats().bytes;
    guard.invalidateAll();
    const small = app({ cache: { maxBytes: Math.floor(oneSet * 1.5), maxEntryBytes: oneSet + 1_000 } });
    emulator().setGrants('cid', readers({ resourceCode: 'reports:7', actions: ['reports:Write'] }));
    expect(await read(small.server, 'ann')).toBe(200);
    expect(await read(small.server, 'ben')).toBe(200);
    expect(small.guard.core.cacheStats()).toMatchObject({ users: 2, sets: 1 });
    expect(await write(small.server, 'cid')).toBe(200);
    // Cid's set does not fit beside ann's and ben's: both leave, and their set with them.
    const stats = small.guard.core.cacheStats();
    expect(stats).toMatchObject({ users: 1, sets: 1 });
    expect(stats.bytes).toBeLessThanOrEqual(Math.floor(oneSet * 1.5));
    emulator().resetCalls();
    expect(await write(small.server, 'cid')).toBe(200);
    expect(await read(small.server, 'ann')).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it("a set is charged its list's text deflated: a long description the index drops costs next to nothing", async () => {
    const { server, guard } = app();
    emulator().setGrants('plain', readers());
    // 200,000 characters GenAuth sends and the index does not keep; only the set's packed text holds them.
    emulator().setGrants('described', readers().map((g, i) => (i === 0 ? { ...g, description: 'Reports of the year. '.repeat(10_000) } : g)));
    expect(await read(server, 'plain')).toBe(200);
    const plain = guard.core.cacheStats().bytes;
    expect(await read(server, 'described')).toBe(200);
    const described = guard.core.cacheStats().bytes - plain;
    expect(guard.core.cacheStats()).toMatchObject({ users: 2, sets: 2 });
    // Charged as text, the description alone would be 200 KB; deflated, it is a few hundred bytes.
    expect(described - plain).toBeLessThan(2_000);
  });

  it('the byte budget holds while users join and leave sets', async () => {
    const { server, guard } = app({ cache: { maxBytes: 250_000, maxEntryBytes: 120_000 } });
    for (let u = 0; u < 30; u++) emulator().setGrants(`user-${u}`, readers(u % 3 === 0 ? undefined : { resourceCode: `own:${u % 7}`, actions: ['read'] }));
    for (let round = 0; round < 2; round++) {
      for (let u = 0; u < 30; u++) {
        expect(await read(server, `user-${u}`)).toBe(200);
        const stats = guard.core.cacheStats();
        expect(stats.bytes).toBeLessThanOrEqual(250_000);
        expect(stats.sets).toBeLessThanOrEqual(stats.users);
      }
    }
    guard.invalidateAll();
    expect(guard.core.cacheStats()).toMatchObject({ users: 0, sets: 0, bytes: 0 });
  });
});

/** The table with `intern` required to answer at once, as it does for lists shorter than LARGE_TEXT. */
function synchronous<L, B>(table: GrantSetTable<L, B>) {
  return {
    intern(list: L): GrantSet<L, B> {
      const set = table.intern(list);
      if (set instanceof Promise) throw new Error('intern answered a short list with a promise');
      return set;
    },
    retain: table.retain,
    release: table.release,
    grew: table.grew,
    get size() {
      return table.size;
    },
    get bytes() {
      return table.bytes;
    },
  };
}

describe('the interning table', () => {
  const table = (hash?: (text: string) => string) =>
    synchronous(createGrantSetTable<unknown[], { of: unknown[] }>({ build: (list) => ({ of: list }), sizeOf: (built) => 100 * built.of.length, ...(hash === undefined ? {} : { hash }) }));

  it('a hash collision never shares: the lists are compared', () => {
    const sets = table(() => 'same');
    const a = sets.intern([{ resourceCode: 'a' }]);
    sets.retain(a);
    const b = sets.intern([{ resourceCode: 'b' }]);
    expect(b).not.toBe(a);
    expect(b.built.of).toEqual([{ resourceCode: 'b' }]);
    sets.retain(b);
    expect(sets.size).toBe(2);
    expect(sets.bytes).toBe(200);
    // An equal list finds the one in the table.
    expect(sets.intern([{ resourceCode: 'a' }])).toBe(a);
    sets.release(b);
    sets.release(a);
    expect(sets.size).toBe(0);
    expect(sets.bytes).toBe(0);
  });

  it('a hash collision between lists of equal length, one character apart, never shares', () => {
    const sets = table(() => 'same');
    const a = sets.intern([{ resourceCode: 'reports:1', actions: ['read'] }]);
    sets.retain(a);
    const b = sets.intern([{ resourceCode: 'reports:2', actions: ['read'] }]);
    expect(b.length).toBe(a.length);
    expect(b).not.toBe(a);
    expect(b.built.of).toEqual([{ resourceCode: 'reports:2', actions: ['read'] }]);
    // Lone surrogates: UTF-8 would turn both into U+FFFD, but JSON.stringify escapes them first.
    const c = sets.intern([{ resourceCode: '\ud800' }]);
    sets.release(a);
    sets.retain(c);
    expect(sets.intern([{ resourceCode: '\udc00' }])).not.toBe(c);
    expect(sets.intern([{ resourceCode: '\ud800' }])).toBe(c);
  });

  it("a set keeps its list's text deflated, and gives back exactly that text", () => {
    let charged = '';
    const sets = synchronous(createGrantSetTable<unknown[], null>({ build: () => null, sizeOf: (_built, packed) => ((charged = packed), 0) }));
    const list = Array.from({ length: 100 }, (_, i) => ({ resourceCode: `reports:${i}`, actions: ['reports:Read'], description: `报表 ${i} 📈` }));
    const set = sets.intern(list);
    const text = JSON.stringify(list);
    expect(set.packed).toBe(charged);
    expect(set.length).toBe(text.length);
    expect(textOf(set)).toBe(text);
    // What is kept (and charged) is a one-byte string far shorter than the text.
    expect(set.packed.length).toBeLessThan(text.length / 4);
    expect([...set.packed].every((ch) => ch.charCodeAt(0) <= 0xff)).toBe(true);
    expect(textOf(sets.intern([]))).toBe('[]');
  });

  it('an equal list is found only while someone holds it', () => {
    const sets = table();
    const a = sets.intern([1, 2]);
    expect(sets.intern([1, 2])).not.toBe(a); // not yet held: not in the table
    sets.retain(a);
    expect(sets.intern([1, 2])).toBe(a);
    sets.retain(a);
    sets.release(a);
    expect(sets.intern([1, 2])).toBe(a);
    sets.release(a);
    expect(sets.intern([1, 2])).not.toBe(a);
    sets.release(a); // one release too many changes nothing
    expect(sets.bytes).toBe(0);
  });

  it('growth is charged once, while held', () => {
    const sets = table();
    const a = sets.intern([1]);
    sets.grew(a, 50);
    expect(sets.bytes).toBe(0);
    sets.retain(a);
    sets.retain(a);
    expect(sets.bytes).toBe(150);
    sets.grew(a, 50);
    expect(sets.bytes).toBe(200);
  });

  it('lists with the same entries in another key order are not shared (never a wrong share, just a miss)', () => {
    const sets = table();
    const a = sets.intern([{ resourceCode: 'a', actions: ['x'] }]);
    sets.retain(a);
    expect(sets.intern([{ actions: ['x'], resourceCode: 'a' }])).not.toBe(a);
    expect(sets.intern([{ resourceCode: 'a', actions: ['x'] }])).toBe(a);
  });

  describe('a large list (its text LARGE_TEXT or longer): packed and compared off the event loop', () => {
    /** `count` grants with a long description each: about 120 characters a grant. */
    const large = (count: number, code = 'reports') =>
      Array.from({ length: count }, (_, i) => ({ resourceCode: `${code}:${i}`, actions: ['reports:Read'], description: `report ${i} of the quarterly series, kept for the auditors` }));
    const raw = (hash?: (text: string) => string) =>
      createGrantSetTable<unknown[], { of: unknown[] }>({ build: (list) => ({ of: list }), sizeOf: (_built, packed) => packed.length, ...(hash === undefined ? {} : { hash }) });

    it('answers with a promise only at LARGE_TEXT and above', async () => {
      const sets = raw();
      let n = 1;
      while (JSON.stringify(large(n + 1)).length < LARGE_TEXT) n++;
      expect(sets.intern(large(n))).not.toBeInstanceOf(Promise);
      const pending = sets.intern(large(n + 1));
      expect(pending).toBeInstanceOf(Promise);
      const set = await pending;
      expect(textOf(set)).toBe(JSON.stringify(large(n + 1)));
      expect(set.bytes).toBe(set.packed.length);
      expect(set.packed.length).toBeLessThan(set.length / 4);
    });

    it('equal large lists share once held; a different one never does', async () => {
      const sets = raw();
      const a = await sets.intern(large(1_000));
      expect(await sets.intern(large(1_000))).not.toBe(a); // not held yet
      sets.retain(a);
      expect(await sets.intern(large(1_000))).toBe(a);
      expect(await sets.intern(large(1_000, 'other'))).not.toBe(a);
      expect(await sets.intern(large(1_001))).not.toBe(a);
    });

    it('a forced hash collision between large lists of equal length, one character apart, never shares', async () => {
      const sets = raw(() => 'same');
      const list = large(1_000);
      const a = await sets.intern(list);
      sets.retain(a);
      const near = large(1_000);
      near[500] = { ...near[500]!, resourceCode: 'reports:X00' };
      expect(JSON.stringify(near).length).toBe(JSON.stringify(list).length);
      const b = await sets.intern(near);
      expect(b).not.toBe(a);
      expect(b.built.of).toBe(near);
      expect(await sets.intern(large(1_000))).toBe(a);
    });

    it('a held set released while a large list is compared with it is still returned whole, and retain enters it again', async () => {
      const sets = raw();
      const a = await sets.intern(large(1_000));
      sets.retain(a);
      const pending = sets.intern(large(1_000));
      sets.release(a);
      expect(sets.size).toBe(0);
      const b = await pending;
      expect(b).toBe(a);
      sets.retain(b);
      expect(sets.size).toBe(1);
      expect(sets.bytes).toBe(a.bytes);
      expect(await sets.intern(large(1_000))).toBe(a);
    });
  });
});
