// Users per byte budget, with grant sets shared or all distinct: USERS users drawn from SETS distinct
// lists of GRANTS grants (SETS=0: every user a list of its own, the worst case), loaded through the
// guard's real path (emulator over loopback HTTP -> JSON -> interned set -> permission cache) at the
// default options but `cache.maxBytes` (BUDGET, default 64 MiB). Heap read after full GCs
// (--expose-gc): before any user, after one user of each set (what the sets cost), and after all.
// Then every user asks again, and the GenAuth calls that took are counted: 0 means every user was warm.
// Prints a Markdown row (or, with --json, the figures) for bench/run.mjs and test/cache/memory-budget.test.ts.
import { parseArgs } from 'node:util';
import { createGuard } from '../dist/index.js';
import { startEmulator } from '../dist/testing.js';
import { JWT_ALG, JWT_SECRET } from './lib/common.mjs';

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('memory-shared.mjs needs node --expose-gc\n');
  process.exit(2);
}
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    sets: { type: 'string', default: '50' },
    grants: { type: 'string', default: '100' },
    budget: { type: 'string', default: String(64 * 2 ** 20) },
    json: { type: 'boolean', default: false },
    // Exit 3 when a target is missed: shared, every user warm and under 400 B of heap each; distinct,
    // at least twice the 548 users per 64 MiB of 100 grants the cache kept before sets were shared.
    targets: { type: 'boolean', default: false },
  },
});
const USERS = Number(args.users);
const SETS = Number(args.sets);
const GRANTS = Number(args.grants);
const BUDGET = Number(args.budget);
for (const [name, value] of Object.entries({ users: USERS, grants: GRANTS, budget: BUDGET })) {
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive integer\n`);
    process.exit(2);
  }
}
const distinct = SETS === 0;
const setOf = (u) => (distinct ? u : u % SETS);

/** Set `s`'s list: GRANTS grants with codes and paths of its own, the same three actions each. */
function listOf(s) {
  return Array.from({ length: GRANTS }, (_, i) => ({
    resourceCode: `ecs:s${s}-server-${i}`,
    resourceType: 'API',
    apiIdentifier: `/api/v1/sets/${s}/servers/${i}`,
    actions: ['ecs:Describe', 'ecs:Start', 'ecs:Stop'],
    effect: 'ALLOW',
    description: `Server ${i} of set ${s}`,
    condition: [],
  }));
}

async function heap() {
  emulator.resetCalls(); // the emulator's log of calls is not the guard's
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

const emulator = await startEmulator();
const lists = new Map();
for (let u = 0; u < USERS; u++) {
  const s = setOf(u);
  let list = lists.get(s);
  if (list === undefined) lists.set(s, (list = listOf(s)));
  emulator.setRawGrants(`user-${u}`, list);
}
if (distinct) lists.clear(); // the emulator holds them; one copy is enough
const guard = createGuard({
  genauth: { host: emulator.url, userPoolId: emulator.userPoolId, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
  cache: { ttl: 3_600_000, maxBytes: BUDGET },
  jwt: { secret: JWT_SECRET, algorithms: [JWT_ALG], tokenCache: { max: 0 } }, // no verified token kept per user
  logger: false,
});
const check = (u) => guard.check({ userId: `user-${u}`, resource: `ecs:s${setOf(u)}-server-7`, action: 'ecs:Describe' });
// Before the first reading: the management token, the pool's sockets (50 loads at once, as below),
// code paths and the cache's first allocations, through 50 warm-up users sharing a list of their own
// (cached, so counted in the baseline).
const warmUp = listOf('w');
for (let k = 0; k < 50; k++) emulator.setRawGrants(`warm-up-${k}`, warmUp);
for (let round = 0; round < 3; round++) {
  await Promise.all(Array.from({ length: 50 }, (_, k) => guard.check({ userId: `warm-up-${k}`, resource: `ecs:sw-server-${round}`, action: 'ecs:Describe' })));
  if (round < 2) guard.invalidateAll();
}
async function askAll(from, to) {
  for (let u = from; u < to; u += 50) {
    const decisions = await Promise.all(Array.from({ length: Math.min(50, to - u) }, (_, k) => check(u + k)));
    if (!decisions.every((d) => d.allowed)) throw new Error('unexpected denial');
  }
}
emulator.resetCalls();

const before = await heap();
const firstUsers = distinct ? 0 : Math.min(SETS, USERS);
await askAll(0, firstUsers); // one user of each set: the sets themselves
const withSets = await heap();
await askAll(firstUsers, USERS);
const loaded = await heap();
const stats = guard.cacheStats();
emulator.resetCalls();
await askAll(0, USERS); // every user's next request
const calls = emulator.callCount();
await guard.close();
await emulator.close();

const growth = loaded - before;
const result = {
  users: USERS,
  distinctSets: distinct ? USERS : Math.min(SETS, USERS),
  grants: GRANTS,
  budget: BUDGET,
  cached: stats.users,
  sets: stats.sets,
  charged: stats.bytes,
  heapGrowth: growth,
  heapPerSet: distinct ? growth / Math.max(stats.users, 1) : (withSets - before) / Math.max(firstUsers, 1),
  heapPerUser: distinct ? growth / Math.max(stats.users, 1) : (loaded - withSets) / Math.max(USERS - firstUsers, 1),
  chargedPerUser: stats.bytes / Math.max(stats.users, 1),
  nextRequestCalls: calls,
};
const missed = distinct
  ? result.cached * (64 * 2 ** 20) / BUDGET < 2 * 548
  : result.nextRequestCalls > 0 || result.heapPerUser >= 400;
if (args.targets && missed) process.exitCode = 3;
if (args.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const mib = (x) => `${(x / 2 ** 20).toFixed(1)} MiB`;
  const row = distinct
    ? `| mem-distinct | ${n(USERS)} users, each a set of its own | ${n(stats.users)} | ${n(stats.sets)} | ${mib(stats.bytes)} | ${mib(growth)} | ${n(result.heapPerSet)} B per user (its set) | ${n(calls)} |`
    : `| mem-shared | ${n(USERS)} users, ${n(SETS)} sets | ${n(stats.users)} | ${n(stats.sets)} | ${mib(stats.bytes)} | ${mib(growth)} | ${n(result.heapPerSet)} B per set, ${n(result.heapPerUser)} B per user | ${n(calls)} |`;
  process.stdout.write(`${row}\n`);
}
