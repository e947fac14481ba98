// `npm run soak`: the Express example (examples/express/app.mjs) in a child process, configured from
// its environment against the package's GenAuth emulator, which runs here with the load generator.
// For --duration seconds: rotating users (more than the app's caches hold), grant changes (half of
// them announced to the app, the rest left to the cache ttl) and upstream faults. Every --interval
// seconds a row: the app's RSS and heap (after a full GC, --expose-gc), requests, statuses, the
// upstream calls the emulator served. Passes (exit 0) when no answer was unexpected and the RSS at
// the end is within 10 % of the RSS at --baseline-at seconds; exit 1 otherwise, 2 on a usage error.
// Everything listens on 127.0.0.1; the child is killed when this process exits.
import { fork } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator } from 'genauth-guard/testing';
import { RESOURCES, planFaults, windowOf } from './soak/faults.mjs';
import { Tally, int, mib, phaseTable, progressHeader, progressRow } from './soak/report.mjs';
import { churns, flipGrants, readsReports, seedTenant, userId } from './soak/tenant.mjs';
import { createPlanner, runLoad, seededRandom } from './soak/traffic.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const FLATNESS = 0.1;

const USAGE = `usage: npm run soak -- [--duration 60] [--users 5000] [--hot 500] [--concurrency 32]
  [--cache-max 1000] [--token-cache-max 1000] [--ttl 5000] [--interval 5] [--baseline-at 10]
  [--fault-every 10] [--fault-length 3] [--change-every 2] [--changes 20] [--seed 1]`;

function readArgs() {
  const spec = {
    duration: 60, users: 5000, hot: 500, concurrency: 32, 'cache-max': 1000, 'token-cache-max': 1000, ttl: 5000,
    interval: 5, 'baseline-at': 10, 'fault-every': 10, 'fault-length': 3, 'change-every': 2, changes: 20, seed: 1,
  };
  let values;
  try {
    ({ values } = parseArgs({ options: { ...Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' }])), help: { type: 'boolean' } } }));
  } catch (error) {
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const config = {};
  for (const [key, fallback] of Object.entries(spec)) {
    const value = values[key] === undefined ? fallback : Number(values[key]);
    if (!Number.isFinite(value) || value < 0 || (value === 0 && ['duration', 'users', 'concurrency', 'interval'].includes(key))) {
      process.stderr.write(`--${key} must be a positive number\n${USAGE}\n`);
      process.exit(2);
    }
    config[key.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
  }
  return config;
}

const config = readArgs();
const t0 = Date.now();
const log = (line) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const out = (line) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// The app child: the example behind an environment-configured guard, with an IPC channel.

let app;
process.on('exit', () => app?.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    app?.kill('SIGKILL');
    process.exit(130);
  });
}

function startApp(emulator) {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, 'soak', 'app-server.mjs'), [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: {
        ...process.env,
        GENAUTH_HOST: emulator.url,
        GENAUTH_USER_POOL_ID: emulator.userPoolId,
        GENAUTH_ACCESS_KEY_ID: emulator.accessKeyId,
        GENAUTH_ACCESS_KEY_SECRET: emulator.accessKeySecret,
        GENAUTH_ISSUER: emulator.issuer,
        GENAUTH_AUDIENCE: emulator.audience,
        GENAUTH_JWKS_URI: emulator.jwksUri,
        GUARD_CACHE_MAX: String(config.cacheMax),
        GUARD_TOKEN_CACHE_MAX: String(config.tokenCacheMax),
        GUARD_CACHE_TTL: String(config.ttl),
      },
    });
    child.stderrTail = '';
    child.stderr.on('data', (d) => { child.stderrTail = (child.stderrTail + d).slice(-4000); });
    const timer = setTimeout(() => reject(new Error('the app sent no ready message within 30 s')), 30_000);
    child.on('message', (m) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(Object.assign(child, { port: m.port }));
      }
    });
    child.on('exit', (code, signal) => {
      child.exited = { code, signal };
      clearTimeout(timer);
      reject(new Error(`the app exited (code ${code}, signal ${signal})\n${child.stderrTail}`));
    });
  });
}

let sampleId = 0;
/** The app's memory after a full GC, and its grant cache's size. */
function sampleApp() {
  const id = ++sampleId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { app.off('message', onMessage); reject(new Error('the app did not answer a memory sample within 10 s')); }, 10_000);
    function onMessage(m) {
      if (m.type !== 'sample' || m.id !== id) return;
      clearTimeout(timer);
      app.off('message', onMessage);
      resolve(m);
    }
    app.on('message', onMessage);
    app.send({ type: 'sample', id, gc: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Counters

const windows = planFaults({ duration: config.duration, every: config.faultEvery, length: config.faultLength })
  .map((w) => ({ ...w, planned: w.start, plannedEnd: w.end, start: Infinity, end: Infinity })); // real times once injected
const byPhase = new Map();
const upstreamByPhase = new Map();
const tallyOf = (map, key) => map.get(key) ?? map.set(key, new Tally()).get(key);
const unexpected = { count: 0, samples: [] };
const churn = { current: 0, older: 0 };
let interval = { requests: 0, statuses: new Tally() };
let requests = 0;
let ok200 = 0;
/** Labels of the fault windows open at some point between two times (ms from the start of the load). */
const faultsBetween = (from, to) => windows.filter((w) => w.start <= to && w.end >= from).map((w) => w.label).join(', ');

let loadStart = 0;
const clock = () => Date.now() - loadStart;

function record(request, outcome) {
  requests++;
  interval.requests++;
  interval.statuses.add(outcome.status);
  const w = windowOf(windows, outcome.started, outcome.ended);
  tallyOf(byPhase, w ? w.index : 'clear').add(outcome.status);
  if (outcome.status === 200) ok200++;
  let problem = outcome.problem;
  if (!problem && outcome.status === 503 && !w) problem = '503 outside every fault window and its grace';
  if (problem) {
    unexpected.count++;
    if (unexpected.samples.length < 20) {
      unexpected.samples.push(`${(outcome.started / 1000).toFixed(2)}–${(outcome.ended / 1000).toFixed(2)} s ${request.method} ${request.path} (${request.kind}${request.user === undefined ? '' : `, ${userId(request.user)}`}): ${problem}`);
    }
  } else if (request.user !== undefined && churns(request.user) && (outcome.status === 200 || outcome.status === 403)) {
    // A churning user's answer against the grants the emulator serves now: how far the cache lags.
    const granted = tenant.granted[request.user];
    const allowed = granted && (request.kind === 'start-own' || (request.kind === 'reports' && readsReports(request.user)));
    if ((outcome.status === 200) === allowed) churn.current++;
    else churn.older++;
  }
}

/** Counts the grant calls the emulator received since the last drain, by answer and phase, then forgets them. */
function drainUpstream(emulator) {
  const answers = new Tally();
  for (const call of emulator.calls) {
    if (call.path !== RESOURCES) continue;
    // A status fault's answer is its status; hang, drop and drop-mid-body are named; latency serves normally.
    const answer = call.fault !== undefined && call.fault !== 'status' ? call.fault : call.status === 0 ? 'pending' : call.status;
    answers.add(answer);
    const at = call.at - loadStart;
    const w = windows.find((x) => at >= x.start && at <= x.end);
    tallyOf(upstreamByPhase, w ? w.index : 'clear').add(answer);
  }
  emulator.resetCalls();
  return answers;
}

// ---------------------------------------------------------------------------------------------
// Main

let tenant;
async function main() {
  const cpus = os.cpus();
  const machine = `node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model?.trim()}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the start`;
  log(machine);
  const emulator = await startEmulator();
  log(`emulator on ${emulator.url}; seeding ${int(config.users)} users and minting their RS256 tokens`);
  tenant = await seedTenant(emulator, { users: config.users, lifetime: config.duration + 3600 });
  app = await startApp(emulator);
  log(`app (examples/express/app.mjs) pid ${app.pid} on 127.0.0.1:${app.port}; caches: ${config.cacheMax} users, ${config.tokenCacheMax} tokens, grants ttl ${config.ttl} ms`);
  app.on('exit', (code, signal) => { app.exited = { code, signal }; });
  const origin = `http://127.0.0.1:${app.port}`;
  await (await fetch(`${origin}/health`)).text();
  emulator.resetCalls(); // the JWKS and management token fetched so far are not load

  const durationMs = config.duration * 1000;
  const random = seededRandom(config.seed);
  const next = createPlanner(tenant, { hot: config.hot, random });
  // The load runs until the last sample is taken (at --duration, still under load, as at --baseline-at).
  let stopped = false;
  const running = () => !stopped && !app.exited;
  const before = (ms) => running() && clock() < ms;
  const at = (ms) => sleep(Math.max(0, ms - clock()));

  out(`Soak: ${config.duration} s, ${int(config.users)} users (${int(Math.min(config.hot, config.users))} hot), ${config.concurrency} concurrent requests, app caches ${int(config.cacheMax)} users / ${int(config.tokenCacheMax)} tokens, grants ttl ${config.ttl} ms.`);
  out(`${machine}.`);
  out('RSS and heap are the app\'s, each read after full GCs (--expose-gc); "faults" names the windows open during the interval.\n');
  out(progressHeader);

  loadStart = Date.now();
  const load = runLoad({ origin, concurrency: config.concurrency, until: running, next, record, clock });

  const faults = (async () => {
    for (const w of windows) {
      await at(w.planned);
      if (!before(durationMs)) break;
      w.start = clock();
      emulator.fault(w.fault);
      await at(w.plannedEnd);
      emulator.clearFaults();
      w.end = clock();
    }
  })();

  const changes = (async () => {
    let changed = 0;
    let announced = 0;
    for (let t = config.changeEvery * 1000; config.changeEvery > 0 && t < durationMs; t += config.changeEvery * 1000) {
      await at(t);
      if (!before(durationMs)) break;
      const ids = flipGrants(emulator, tenant, { count: config.changes, among: config.hot, random });
      // Half are announced (a webhook calling guard.invalidateUser), the others wait out the ttl.
      const told = ids.filter((_, k) => k % 2 === 0).map(userId);
      if (told.length) app.send({ type: 'invalidate', userIds: told });
      changed += ids.length;
      announced += told.length;
    }
    return { changed, announced };
  })();

  const samples = [];
  const reports = (async () => {
    const times = new Set([config.baselineAt * 1000, durationMs]);
    for (let t = config.interval * 1000; t < durationMs; t += config.interval * 1000) times.add(t);
    let last = 0;
    for (const t of [...times].filter((x) => x <= durationMs).sort((a, b) => a - b)) {
      await at(t);
      if (!running()) break;
      const sample = await sampleApp();
      const elapsed = clock();
      samples.push({ at: elapsed, sample });
      const upstream = drainUpstream(emulator);
      const fault = [faultsBetween(last, elapsed), t === durationMs ? 'end' : ''].filter(Boolean).join('; ');
      out(progressRow({ elapsed: elapsed / 1000, sample, requests: interval.requests, seconds: (elapsed - last) / 1000, statuses: interval.statuses, upstream, fault }));
      interval = { requests: 0, statuses: new Tally() };
      last = elapsed;
    }
    stopped = true;
  })();

  await reports;
  await load;
  await faults;
  const changed = await changes;
  emulator.clearFaults();
  if (app.exited) throw new Error(`the app exited during the load (code ${app.exited.code}, signal ${app.exited.signal})\n${app.stderrTail}`);
  const elapsed = clock();
  drainUpstream(emulator); // answers to the last requests, counted in the phase table
  const end = samples.at(-1).sample;

  // Summary
  const loadSeconds = elapsed / 1000;
  out(`\n${int(requests)} requests in ${loadSeconds.toFixed(1)} s (${int(requests / loadSeconds)} req/s); ${changed.changed} grant changes (${changed.announced} announced with invalidateUser, the rest left to the ttl); fault windows: ${windows.filter((w) => Number.isFinite(w.start)).length}.\n`);
  out(phaseTable(windows, byPhase, upstreamByPhase));
  out(`\nChurning users' answers (200/403) against the grants served at the time of the answer: ${int(churn.current)} current, ${int(churn.older)} from before a change (cache ttl ${config.ttl} ms, or a change racing the request).`);

  const base = samples.find((s) => s.at >= config.baselineAt * 1000);
  const checks = [];
  checks.push({ name: 'no unexpected answer', ok: unexpected.count === 0, detail: `${int(unexpected.count)} unexpected` });
  checks.push({ name: 'load answered', ok: ok200 > 0, detail: `${int(ok200)} answers 200` });
  if (base && config.duration >= 2 * config.baselineAt) {
    const change = end.memory.rss / base.sample.memory.rss - 1;
    checks.push({
      name: `flat memory (RSS at the end within ${FLATNESS * 100} % of RSS at ${(base.at / 1000).toFixed(1)} s)`,
      ok: Math.abs(change) <= FLATNESS,
      detail: `RSS ${mib(base.sample.memory.rss)} -> ${mib(end.memory.rss)} MiB (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %); heap used ${mib(base.sample.memory.heapUsed)} -> ${mib(end.memory.heapUsed)} MiB`,
    });
  } else {
    checks.push({ name: 'flat memory', ok: true, detail: `not checked: the run is shorter than twice --baseline-at (${config.baselineAt} s)` });
  }
  out('\n| check | result | detail |\n|---|---|---|');
  for (const c of checks) out(`| ${c.name} | ${c.ok ? 'pass' : '**FAIL**'} | ${c.detail} |`);
  if (unexpected.samples.length) out(`\nUnexpected answers (first ${unexpected.samples.length}):\n${unexpected.samples.map((s) => `- ${s}`).join('\n')}`);

  app.disconnect();
  await Promise.race([new Promise((r) => app.once('exit', r)), sleep(3000)]);
  await emulator.close();
  const passed = checks.every((c) => c.ok);
  out(`\nsoak ${passed ? 'passed' : 'FAILED'}`);
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`soak failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
