// `npm run bench:instructions`: instructions per request of each server, counted by valgrind's
// callgrind. Unlike req/s, an instruction count does not move with what the rest of a shared machine
// is doing (the same code and inputs give the same count within ~3 %), so it shows a cost of a few
// percent that wall-clock ratios on a noisy VM cannot resolve. It is a proxy: cache misses, syscalls
// in the kernel and waiting are not counted. Each server runs under callgrind (--single-threaded, so
// V8's GC and its optimizing compiler run on the counted main thread); the emulator runs natively.
// After a warm-up, the counters are zeroed, N requests are sent over 4 keep-alive connections, and
// the counters dumped. The compiler's share is reported apart: natively it runs on another thread and
// ends with the warm-up, under callgrind it is still busy (docs/bench.md).
//
// Knobs: BENCH_ONLY / BENCH_SKIP (ids; default: every row but g, c100 and c10k, too slow under callgrind),
// BENCH_IREQUESTS (2000 measured requests), BENCH_IWARMUP (4000), BENCH_IPARALLEL (2 servers at once),
// BENCH_IFLAGS (extra node/V8 flags for the servers, space-separated), BENCH_IKEEP=1 (keep the files).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discover, list } from './lib/configs.mjs';
import { HOST, TARGET_PATH } from './lib/common.mjs';
import { startProcess } from './lib/processes.mjs';
import { tokenSource } from './lib/tokens.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_IREQUESTS || 2000);
const WARMUP = Number(process.env.BENCH_IWARMUP || 4000);
const PARALLEL = Number(process.env.BENCH_IPARALLEL || 2);
const V8_FLAGS = (process.env.BENCH_IFLAGS ?? '').split(' ').filter(Boolean);
const log = (s) => process.stderr.write(`${s}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  log('valgrind is not installed (apt-get install -y valgrind): instruction counts skipped');
  process.exit(0);
}

const only = list('BENCH_ONLY');
const configs = discover({ only, skip: only.length ? list('BENCH_SKIP') : ['g', 'c100', 'c10k', ...list('BENCH_SKIP')] });
// BENCH_IKEEP=1 keeps callgrind's output files (for callgrind_annotate) and prints where they are.
const work = mkdtempSync(join(tmpdir(), 'genauth-guard-instructions-'));
if (process.env.BENCH_IKEEP === '1') log(`callgrind output kept in ${work}`);
else process.on('exit', () => rmSync(work, { recursive: true, force: true }));

async function drive(port, next, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const get = () => new Promise((resolvePromise, reject) => {
    const req = request({ host: HOST, port, path: TARGET_PATH, agent, headers: { authorization: `Bearer ${next()}` } }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
  let sent = 0;
  let bad = 0;
  const worker = async () => { while (sent++ < count) if ((await get()) !== 200) bad++; };
  await Promise.all([worker(), worker(), worker(), worker()]);
  agent.destroy();
  return bad;
}

const grantCalls = async () => (await (await fetch(`http://${HOST}:${upstream.ports[1]}/stats`)).json()).grantCalls;

async function count(config, upstreamUrl) {
  const out = join(work, `${config.id}.out`);
  const server = await startProcess('valgrind', [
    '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', ...V8_FLAGS, config.file,
  ], { GENAUTH_HOST: upstreamUrl, GUARD_TIMEOUT: '60000', ...config.env }, config.id);
  const next = tokenSource(config);
  await drive(server.port, next, WARMUP);
  execFileSync('callgrind_control', ['--zero', String(server.pid)], { stdio: 'ignore' });
  const callsBefore = await grantCalls();
  const bad = await drive(server.port, next, N);
  execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
  // Other servers counted in parallel may call the emulator too: an upper bound for this one.
  const upstreamCalls = (await grantCalls()) - callsBefore;
  server.kill('SIGKILL');
  const dumps = readdirSync(work).filter((f) => f.startsWith(`${config.id}.out.`)).map((f) => join(work, f));
  const total = dumps.reduce((sum, f) => sum + Number(/^summary: (\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0), 0);
  const compile = dumps.reduce((sum, f) => sum + inclusiveCost(f, COMPILER), 0);
  return { perRequest: total / N, compilePerRequest: compile / N, steadyPerRequest: (total - compile) / N, bad, upstreamCalls };
}

// TurboFan runs on the main thread under --single-threaded; natively it runs on a background thread
// and stops once the code is hot. The count without it is the steady state.
const COMPILER = 'v8::internal::Runtime_CompileOptimized(';

/** Instructions spent in a function and everything it called, from callgrind_annotate. */
function inclusiveCost(file, functionName) {
  const report = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const line = report.split('\n').find((l) => l.includes(functionName));
  return line === undefined ? 0 : Number(/^\s*([\d,]+)/.exec(line)[1].replaceAll(',', ''));
}

const upstream = await startProcess(process.execPath, [join(HERE, 'upstream.mjs')], {}, 'upstream');
const upstreamUrl = `http://${HOST}:${upstream.port}`;
const results = new Map();
const queue = [...configs];
await Promise.all(Array.from({ length: PARALLEL }, async () => {
  for (let c = queue.shift(); c; c = queue.shift()) {
    const t0 = Date.now();
    try {
      results.set(c.id, await count(c, upstreamUrl));
      const r = results.get(c.id);
      log(`${c.id.padEnd(13)} ${fmt(r.perRequest).padStart(11)} instructions/request, ${fmt(r.steadyPerRequest)} without TurboFan (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    } catch (error) {
      results.set(c.id, { error: error.message.slice(0, 300) });
      log(`${c.id} FAILED: ${error.message.slice(0, 300)}`);
    }
  }
}));
upstream.kill();

const lines = [
  `## Instructions per request (callgrind; ${N.toLocaleString('en-US')} requests after ${WARMUP.toLocaleString('en-US')} of warm-up, 4 connections)`,
  '',
  'total: everything the server executed; of which TurboFan: optimizing compilation (on the main thread here,',
  'on a background thread natively, where it ends with the warm-up); steady: total without it. ratio: the',
  'baseline\'s steady count over the row\'s, the req/s ratio the row would have if time followed instructions.',
  '',
  '| id | configuration | total | of which TurboFan | steady | over baseline | ratio | vs | upstream calls | non-2xx |',
  '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
];
for (const c of configs) {
  const r = results.get(c.id);
  const base = results.get(c.baseline);
  if (!r || r.error) { lines.push(`| ${c.id} | ${c.label} | failed | | | | | ${c.baseline} | | |`); continue; }
  const hasBase = base && !base.error;
  const ratio = hasBase ? base.steadyPerRequest / r.steadyPerRequest : NaN;
  const over = hasBase && c.id !== c.baseline ? `+${fmt(r.steadyPerRequest - base.steadyPerRequest)}` : '';
  lines.push(`| ${c.id} | ${c.label} | ${fmt(r.perRequest)} | ${fmt(r.compilePerRequest)} | ${fmt(r.steadyPerRequest)} | ${over} | ${Number.isFinite(ratio) ? ratio.toFixed(3) : 'n/a'} | ${c.baseline} | ${r.upstreamCalls} | ${r.bad} |`);
}
const by = (id) => { const r = results.get(id); return r && !r.error ? r.steadyPerRequest : NaN; };
const pairs = [['h', 'jose', 'h / jose'], ['f100', 'noop', 'f100 / noop'], ['f100', 'attach', 'f100 / attach'], ['i', 'd', 'i / d'], ['i', 'e', 'i / e'], ['i-1k', 'd', 'i-1k / d']];
lines.push('', '| comparison (steady) | ratio (fewer instructions = higher) |', '|---|---:|');
for (const [x, y, name] of pairs) if (Number.isFinite(by(x) / by(y))) lines.push(`| ${name} | ${(by(y) / by(x)).toFixed(3)} |`);
process.stdout.write(`${lines.join('\n')}\n`);
if ([...results.values()].some((r) => r.error || r.bad)) process.exitCode = 1;
