// Micro-benchmarks (tinybench), one process, no HTTP: the decision at 100 and 10k grants (fresh and
// cached index), API-mode matching at 10k API grants, interning a loaded 100-grant list, and what
// adapters call per request (cached token, warm grants): the core's enforce() and enforceApi(), and
// the Express middleware around them.
// Each task runs its operation BATCH times so sub-microsecond work is above the timer's resolution;
// the table reports the time of one operation. Every benchmarked call is checked before timing.
import { existsSync } from 'node:fs';
import { Bench } from 'tinybench';
import { apiModeSpec, createGuard, decide, indexGrants, normalizeRequirement, routeSpec } from '../dist/index.js';
import { createExpressGuard } from '../dist/express.js';
import { startEmulator } from '../dist/testing.js';
import { ACTION, ALLOWED_USER, JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, RESOURCE_OF, TARGET_ID, TARGET_PATH, mintHs256 } from './lib/common.mjs';
import { grantList } from './lib/fixtures.mjs';
import { importSource } from './lib/build-src.mjs';

const BATCH = 100;
const TIME = Number(process.env.BENCH_MICRO_TIME ?? 1000);
let sink = 0;

// The emulator fills these fields; indexGrants gets exactly what GenAuth answers.
const dto = (n) => grantList(n).map((g) => ({ condition: [], ...g }));
const requirement = normalizeRequirement(ACTION);
const resource = RESOURCE_OF(TARGET_ID);
const checks = [];
const expect = (name, ok) => { if (!ok) checks.push(name); };

const bench = new Bench({ time: TIME, warmupTime: 200 });
for (const n of [100, 10_000]) {
  const index = indexGrants(dto(n));
  expect(`decide ${n} allows`, decide(index, resource, requirement).allowed === true);
  expect(`decide ${n} denies`, decide(index, 'ecs:nope', requirement).allowed === false);
  bench.add(`decide(), ${n.toLocaleString('en-US')} grants, allowed (last grant)`, () => {
    for (let i = 0; i < BATCH; i++) sink += decide(index, resource, requirement).allowed ? 1 : 0;
  });
  bench.add(`decide(), ${n.toLocaleString('en-US')} grants, no grant (deny)`, () => {
    for (let i = 0; i < BATCH; i++) sink += decide(index, 'ecs:nope', requirement).allowed ? 1 : 0;
  });
}

// The same decisions from the compact index a cache keeps (indexGrantsCompact, not exported by dist/):
// what a request decides from on a memo miss. decide() comes from the same bundle: dist/'s decide()
// would take the bundle's index for one of the app's own (another copy of its class) and check and
// read it as such, a pass over every grant per decision, which is not what the guard does.
{
  const { indexGrantsCompact, decide } = await importSource(['policy/grants', 'policy/decide']);
  for (const n of [100, 10_000]) {
    const index = indexGrantsCompact(dto(n));
    expect(`decide cached ${n} allows`, decide(index, resource, requirement).allowed === true);
    expect(`decide cached ${n} denies`, decide(index, 'ecs:nope', requirement).allowed === false);
    bench.add(`decide(), ${n.toLocaleString('en-US')} grants, cached index, allowed (last grant)`, () => {
      for (let i = 0; i < BATCH; i++) sink += decide(index, resource, requirement).allowed ? 1 : 0;
    });
    bench.add(`decide(), ${n.toLocaleString('en-US')} grants, cached index, no grant (deny)`, () => {
      for (let i = 0; i < BATCH; i++) sink += decide(index, 'ecs:nope', requirement).allowed ? 1 : 0;
    });
  }
}

// API mode, where it exists: 10k API grants whose apiIdentifiers are distinct paths.
if (existsSync(new URL('../src/policy/api-match.ts', import.meta.url))) {
  const { matchApi } = await importSource('policy/api-match');
  const index = indexGrants(dto(10_000).map((g) => ({ ...g, actions: ['read', 'update'] })));
  expect('matchApi allows', matchApi(index, 'GET', TARGET_PATH).allowed === true);
  expect('matchApi denies', matchApi(index, 'DELETE', `/api/v1/servers/${TARGET_ID}`).allowed === false);
  bench.add('matchApi(), 10,000 API grants, GET allowed', () => {
    for (let i = 0; i < BATCH; i++) sink += matchApi(index, 'GET', TARGET_PATH).allowed ? 1 : 0;
  });
  bench.add('matchApi(), 10,000 API grants, unknown path (deny)', () => {
    for (let i = 0; i < BATCH; i++) sink += matchApi(index, 'GET', '/api/v1/elsewhere/7').allowed ? 1 : 0;
  });
}

// Interning a loaded list (once per load, never per request). A hash hit is a user whose list is
// already shared (the held text inflated and compared); a miss is a new set (its text deflated). The
// built form is the list itself, so the rows show what the list's text costs.
{
  const { createGrantSetTable } = await importSource('cache/grant-sets');
  const table = createGrantSetTable({ build: (list) => list, sizeOf: () => 0 });
  const list = dto(100);
  const held = table.intern(list);
  table.retain(held);
  const copy = JSON.parse(JSON.stringify(list)); // equal, not the same objects: as from another load
  expect('intern hit finds the held set', table.intern(copy) === held);
  const fresh = createGrantSetTable({ build: (l) => l, sizeOf: () => 0 });
  bench.add('intern(), 100-grant list, hash hit (an equal list is held)', () => {
    for (let i = 0; i < BATCH; i++) sink += table.intern(copy) === held ? 1 : 0;
  });
  bench.add('intern(), 100-grant list, miss (a new set)', () => {
    for (let i = 0; i < BATCH; i++) sink += fresh.intern(copy).users + 1;
  });
}

// What adapters call per request: what a request costs beyond the framework. Warm, every call is
// synchronous (no promise), as on the adapters' hot path; a promise would fail the checks below.
const emulator = await startEmulator({ hs256Secret: JWT_SECRET });
emulator.setGrants(ALLOWED_USER, dto(100));
const options = {
  genauth: { host: emulator.url, userPoolId: emulator.userPoolId, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
  jwt: { secret: JWT_SECRET, issuer: JWT_ISSUER, audience: JWT_AUDIENCE, algorithms: [JWT_ALG] },
  logger: false,
};
const guard = createGuard(options);
const authorization = `Bearer ${mintHs256(ALLOWED_USER)}`;
// Node's shape: rawHeaders beside headers (the guard reads the Authorization header from rawHeaders).
const request = { method: 'GET', url: TARGET_PATH, headers: { authorization }, rawHeaders: ['Authorization', authorization] };
const spec = routeSpec(resource, ACTION);
const apiSpec = apiModeSpec({ methodActions: { GET: ACTION } });
const sync = (result) => (result instanceof Promise ? undefined : result);
expect('guard.enforce allows', (await guard.enforce(request, spec)).decision.allowed === true);
expect('guard.enforce is synchronous when warm', sync(guard.enforce(request, spec))?.decision.allowed === true);
expect('guard.enforceApi is synchronous when warm', sync(guard.enforceApi(request, apiSpec))?.decision.allowed === true);
bench.add('guard.enforce(): cached token, warm grants, 100 grants (sync)', () => {
  for (let i = 0; i < BATCH; i++) sink += guard.enforce(request, spec).decision.allowed ? 1 : 0;
});
bench.add('guard.enforceApi(): cached token, warm grants, 100 API grants (sync)', () => {
  for (let i = 0; i < BATCH; i++) sink += guard.enforceApi(request, apiSpec).decision.allowed ? 1 : 0;
});

// The Express adapter's middleware around enforce() (a plain object as the request: no Express app).
const express = createExpressGuard(options);
const middleware = express.requirePermission((req) => RESOURCE_OF(req.params.id), ACTION);
const req = { ...request, originalUrl: TARGET_PATH, params: { id: TARGET_ID } };
const res = { headersSent: false };
let passed = 0;
const next = (error) => {
  if (error) throw error;
  passed++;
};
await new Promise((resolve, reject) => middleware(req, res, (error) => (error ? reject(error) : resolve())));
middleware(req, res, next);
expect('Express middleware passes synchronously when warm', passed === 1 && req.genauth?.decision?.allowed === true);
bench.add('Express requirePermission() middleware: the same, through the adapter runtime (sync)', () => {
  for (let i = 0; i < BATCH; i++) middleware(req, res, next);
  sink += passed;
});

if (checks.length) {
  process.stderr.write(`micro: checks failed: ${checks.join(', ')}\n`);
  process.exit(1);
}
await bench.run();
await guard.close();
await express.close();
await emulator.close();

const ns = (ms) => { const v = (ms * 1e6) / BATCH; return v < 1000 ? `${v.toFixed(0)} ns` : `${(v / 1000).toFixed(2)} µs`; };
const rows = bench.tasks.map((t) => {
  const r = t.result;
  return `| ${t.name} | ${ns(r.latency.mean)} | ${ns(r.latency.p50)} | ${ns(r.latency.p99)} | ${Math.round(r.throughput.mean * BATCH).toLocaleString('en-US')} |`;
});
process.stdout.write([
  `## Micro-benchmarks (tinybench, ${process.version}; each sample is a batch of ${BATCH} calls, times are per call)`,
  '',
  '| operation | mean | p50 | p99 | ops/s |',
  '|---|---:|---:|---:|---:|',
  ...rows,
  '',
  `(checksum ${sink > 0 ? 'ok' : 'empty'})`,
  '',
].join('\n'));
