// Bytes per cached user at 100 grants, measured: the heap delta of USERS users loaded through the
// guard's real path (emulator over HTTP -> JSON -> indexGrants -> permission cache), after full GCs,
// against the guard's own estimate (cacheStats(), from the constants in src/policy/grant-bytes.ts).
// Then API mode: one API-mode request per user compiles the user's API grants into the tries kept with
// them, and the heap is measured again. Run with --expose-gc. Every user has distinct resource codes,
// so no string is shared across users.
import { apiModeSpec, createGuard } from '../dist/index.js';
import { startEmulator } from '../dist/testing.js';
import { JWT_ALG, JWT_SECRET, mintHs256 } from './lib/common.mjs';
import { distinctGrants, settledHeap } from './lib/grant-lists.mjs';

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('memory.mjs needs node --expose-gc\n');
  process.exit(2);
}
const USERS = Number(process.env.BENCH_MEMORY_USERS ?? 2000);
const GRANTS = 100;

const grantsOf = (u) => distinctGrants(u, GRANTS);
const heap = settledHeap;

const emulator = await startEmulator();
for (let u = 0; u < USERS; u++) emulator.setGrants(`user-${u}`, grantsOf(u));
const guard = createGuard({
  genauth: { host: emulator.url, userPoolId: emulator.userPoolId, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
  cache: { ttl: 3_600_000, max: USERS * 2, maxBytes: 2 ** 31 }, // room for every user: the delta is divided by users cached
  jwt: { secret: JWT_SECRET, algorithms: [JWT_ALG], tokenCache: { max: 0 } }, // no verified token kept per user
  logger: false,
});
// A route check loads and caches the user's grants and normalizes the grants of its resource only.
const routeCheck = (u, i = 0) => guard.check({ userId: `user-${u}`, resource: `ecs:u${u}-server-${i}`, action: 'ecs:Describe' });
await guard.check({ userId: 'warm-up-user', resource: 'x', action: 'x' }).catch(() => {}); // management token, pool sockets, code paths
emulator.resetCalls();

const before = await heap();
for (let u = 0; u < USERS; u += 50) {
  const decisions = await Promise.all(Array.from({ length: Math.min(50, USERS - u) }, (_, k) => routeCheck(u + k)));
  if (!decisions.every((decision) => decision.allowed)) throw new Error('unexpected denial');
}
emulator.resetCalls();
const loaded = await heap();
// Every grant of a user normalized, as API mode (and `grants`) does: the most a cached user's grants hold.
for (let u = 0; u < USERS; u++) {
  for (let i = 0; i < GRANTS; i++) if (!(await routeCheck(u, i)).allowed) throw new Error('unexpected denial');
}
if (emulator.callCount() !== 0) throw new Error('grants were loaded again');
const normalized = await heap();
const routeStats = guard.cacheStats();
// API mode: a request per user compiles its API grants into tries, kept as long as the grants are.
const api = apiModeSpec({ methodActions: { GET: 'ecs:Describe' } });
for (let u = 0; u < USERS; u++) {
  const request = { method: 'GET', url: `/api/v1/users/${u}/servers/7`, headers: { authorization: `Bearer ${mintHs256(`user-${u}`)}` } };
  if ((await guard.enforceApi(request, api)) === null) throw new Error('unexpected public path');
}
if (emulator.callCount() !== 0) throw new Error('grants were loaded again');
const compiled = await heap();
const stats = guard.cacheStats();
const asLoaded = (loaded - before) / USERS;
const measured = (normalized - before) / USERS;
const apiMeasured = (compiled - before) / USERS;
const estimated = routeStats.bytes / routeStats.entries;
const apiEstimated = stats.bytes / stats.entries;
await guard.close();
await emulator.close();

const fmt = (n) => `${Math.round(n).toLocaleString('en-US')} B`;
process.stdout.write([
  `## Memory per cached user (${GRANTS} grants, ${USERS.toLocaleString('en-US')} users, ${process.version})`,
  '',
  '| mode | heap per user as loaded | heap per user, most it holds | guard estimate per user (cacheStats) | estimate / most | users cached |',
  '|---|---:|---:|---:|---:|---:|',
  `| route (every grant normalized) | ${fmt(asLoaded)} | ${fmt(measured)} | ${fmt(estimated)} | ${(estimated / measured).toFixed(2)} | ${routeStats.entries.toLocaleString('en-US')} |`,
  `| API (normalized, tries compiled) | ${fmt(asLoaded)} | ${fmt(apiMeasured)} | ${fmt(apiEstimated)} | ${(apiEstimated / apiMeasured).toFixed(2)} | ${stats.entries.toLocaleString('en-US')} |`,
  '',
  `At the default 64 MiB budget the cache holds about ${Math.floor((64 * 2 ** 20) / Math.max(measured, estimated)).toLocaleString('en-US')} users of ${GRANTS} grants in route mode, ${Math.floor((64 * 2 ** 20) / Math.max(apiMeasured, apiEstimated)).toLocaleString('en-US')} in API mode.`,
  estimated < measured || apiEstimated < apiMeasured
    ? '**The estimate undercounts: raise the constants in src/policy/grant-bytes.ts (grants) or src/policy/api-trie.ts (API mode\'s tries).**'
    : 'The estimate is not below the most a user can hold, in either mode, so the byte budget holds.',
  '',
].join('\n'));
if (estimated < measured || apiEstimated < apiMeasured) process.exitCode = 3;
