// Where the bytes of one cached 100-grant set go, from V8 heap snapshots (issue "Scale", item 2). Loads
// SETS users, each with a distinct 100-grant list, through the guard's real path (emulator over HTTP ->
// JSON -> grant set -> permission cache); takes a heap snapshot before and after (full GCs first); the
// objects present only in the second (V8 keeps an object's snapshot id for its life) are what the sets
// hold, grouped by kind and divided by SETS. Then API mode compiles every user's tries, and a third
// snapshot shows what that adds. The snapshots go to files and are read after the last one, so that no
// analysis is in the heap being measured. Run with --expose-gc (`npm run bench:heap-set`).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { apiModeSpec, createGuard } from '../dist/index.js';
import { startEmulator } from '../dist/testing.js';
import { JWT_ALG, JWT_SECRET, mintHs256 } from './lib/common.mjs';
import { distinctGrants, settledHeap } from './lib/grant-lists.mjs';

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('heap-set.mjs needs node --expose-gc\n');
  process.exit(2);
}
const SETS = Number(process.env.BENCH_HEAP_SETS ?? 20);
const GRANTS = 100;

// The same lists as bench/memory.mjs, passed through JSON so that the emulator's strings are flat now:
// V8 would flatten a template's concatenated string when first serialized, and the new flat copy would
// count as the set's.
const grantsOf = (u) => JSON.parse(JSON.stringify(distinctGrants(u, GRANTS)));

const directory = mkdtempSync(join(tmpdir(), 'genauth-guard-heap-'));
let taken = 0;
/** A heap snapshot written to a file, after full GCs. */
async function snapshot() {
  await settledHeap();
  return writeHeapSnapshot(join(directory, `${taken++}.heapsnapshot`));
}

/** id -> [kind, self size] of every live object in a snapshot file, kinds grouped as DevTools' summary view does. */
function objectsOf(file) {
  const { snapshot: { meta }, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const width = meta.node_fields.length;
  const at = (field) => meta.node_fields.indexOf(field);
  const [TYPE, NAME, ID, SIZE] = [at('type'), at('name'), at('id'), at('self_size')];
  const types = meta.node_types[0];
  const objects = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    objects.set(nodes[i + ID], [kindOf(types[nodes[i + TYPE]], strings[nodes[i + NAME]], nodes[i + SIZE]), nodes[i + SIZE]]);
  }
  return objects;
}

function kindOf(type, name, size) {
  switch (type) {
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      // Codes, paths and actions are short; the one long string of a set is its list's JSON text,
      // kept raw-deflated for the equality check (about 1 KB for these lists, 20 KB as text).
      return size > 512 ? 'string > 512 B (the list\'s JSON text, deflated, kept for the equality check)' : 'strings (codes, paths, actions)';
    case 'object':
      return `object ${name}`;
    case 'closure':
      return 'closures';
    case 'array':
      return `internal array ${name}`;
    case 'number':
      return 'heap numbers';
    case 'code':
    case 'native':
      // Code V8 compiled meanwhile and Node's native buffers: the process's, not the sets'.
      return undefined;
    default:
      return `${type} ${name}`.trim();
  }
}

/** What `after` holds that `before` did not, per kind, per set. */
function grown(before, after) {
  const kinds = new Map();
  for (const [id, [kind, size]] of after) {
    if (before.has(id) || kind === undefined) continue;
    const row = kinds.get(kind) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += size;
    kinds.set(kind, row);
  }
  return [...kinds].sort((a, b) => b[1].bytes - a[1].bytes);
}

function table(rows, title) {
  const total = rows.reduce((sum, [, row]) => sum + row.bytes, 0);
  const shown = rows.filter(([, row]) => row.bytes / total >= 0.002);
  const rest = rows.slice(shown.length).reduce((sum, [, row]) => sum + row.bytes, 0);
  const kb = (n) => `${(n / SETS / 1024).toFixed(1)} KB`;
  return [
    `### ${title}: ${kb(total)} per set`,
    '',
    '| what | objects per set | bytes per set | share |',
    '|---|---:|---:|---:|',
    ...shown.map(([kind, row]) => `| ${kind} | ${Math.round(row.count / SETS).toLocaleString('en-US')} | ${kb(row.bytes)} | ${((100 * row.bytes) / total).toFixed(1)} % |`),
    ...(rest > 0 ? [`| everything under 0.2 % | | ${kb(rest)} | ${((100 * rest) / total).toFixed(1)} % |`] : []),
    '',
  ].join('\n');
}

const emulator = await startEmulator();
for (let u = 0; u < SETS; u++) emulator.setGrants(`user-${u}`, grantsOf(u));
const guard = createGuard({
  genauth: { host: emulator.url, userPoolId: emulator.userPoolId, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
  cache: { ttl: 3_600_000, maxBytes: 2 ** 31 },
  jwt: { secret: JWT_SECRET, algorithms: [JWT_ALG], tokenCache: { max: 0 } },
  logger: false,
});
const api = apiModeSpec({ methodActions: { GET: 'ecs:Describe' } });
const apiRequest = (u) => ({ method: 'GET', url: `/api/v1/users/${u}/servers/7`, headers: { authorization: `Bearer ${mintHs256(`user-${u}`)}` } });
// Warm every code path (management token, pool sockets, API-mode compilation) on a user not counted.
for (const w of ['w1', 'w2', 'w3']) {
  emulator.setGrants(`user-${w}`, grantsOf(w));
  await guard.check({ userId: `user-${w}`, resource: `ecs:u${w}-server-0`, action: 'ecs:Describe' });
  await guard.enforceApi(apiRequest(w), api);
}
emulator.resetCalls();

const empty = await snapshot();
for (let u = 0; u < SETS; u++) {
  if (!(await guard.check({ userId: `user-${u}`, resource: `ecs:u${u}-server-0`, action: 'ecs:Describe' })).allowed) throw new Error('unexpected denial');
}
// The emulator's record of each call holds the request it answered: not the guard's to count.
if (emulator.callCount() !== SETS) throw new Error(`expected ${SETS} GenAuth calls, saw ${emulator.callCount()}`);
emulator.resetCalls();
const loaded = await snapshot();
for (let u = 0; u < SETS; u++) {
  if ((await guard.enforceApi(apiRequest(u), api)) === null) throw new Error('unexpected public path');
}
if (emulator.callCount() !== 0) throw new Error('grants were loaded again');
const compiled = await snapshot();
const stats = guard.cacheStats();
await guard.close();
await emulator.close();

const [before, afterLoad, afterCompile] = [empty, loaded, compiled].map(objectsOf);
rmSync(directory, { recursive: true, force: true });
process.stdout.write([
  `## One cached ${GRANTS}-grant set, by heap snapshot (${SETS} distinct sets, ${process.version})`,
  '',
  `Charged by the guard (cacheStats, API tries included): ${(stats.bytes / SETS / 1024).toFixed(1)} KB per set.`,
  '',
  table(grown(before, afterLoad), 'As loaded (route checks)'),
  table(grown(afterLoad, afterCompile), 'Added by API mode (tries compiled on the first API-mode request)'),
].join('\n'));
