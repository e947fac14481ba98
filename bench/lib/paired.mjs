// Paired cost measurement: a configuration against a twin of its bare framework, alternating in short
// slices on a core of their own (core 1), with the load generator, the emulator and the runner on
// core 0. Per slice pair, the ratio of their server CPU time per request (twin / row) is the row's
// req/s ratio with a core to itself. Alternating slices a second apart see nearly the same machine,
// so this VM's drift (about 20 % within seconds) mostly cancels within each pair.
//
// Forks: each configuration is measured in several fresh pairs of processes, and the report gives the
// median over them. One process is one sample of V8's optimization outcome: the same server, started
// and loaded the same way, was measured at 40 and at 47 µs per request in different processes (Node
// 20, Fastify with the guard), stable within each. The slow ones spend the difference in
// `process.nextTick`, whose object literal with computed symbol keys falls back to the V8 runtime
// (Runtime_DefineKeyedOwnPropertyInLiteral, map migrations) in some processes and not in others
// (docs/bench.md). A single pair of processes made such a row look up to 0.1 better or worse from one
// run to the next.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/** CPU seconds used so far by a process (all threads), from /proc; null where unavailable. */
export async function cpuSeconds(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Wait until the given processes stop burning CPU: a slow server still works through the requests
 * in flight when a load ends, which would be charged to the next measurement.
 */
export async function settle(pids, maxMs = 20_000) {
  const deadline = Date.now() + maxMs;
  let quiet = 0;
  let last = await Promise.all(pids.map(cpuSeconds));
  while (Date.now() < deadline && quiet < 2) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await Promise.all(pids.map(cpuSeconds));
    const busy = now.some((v, i) => v !== null && last[i] !== null && v - last[i] > 0.015);
    quiet = busy ? 0 : quiet + 1;
    last = now;
  }
}

/**
 * One fork: a fresh row process and a fresh twin (`start(config)` resolves with a running child), both
 * warmed up, then `slices` alternating loads of each (the order swapped every slice). Resolves with
 * the per-slice ratios (twin CPU per request / row CPU per request); both processes are stopped.
 */
export async function forkRatios({ row, twin, slices, seconds, start, warm, load, quietPids = [] }) {
  const servers = [];
  try {
    for (const config of [twin, row]) {
      const child = await start(config);
      await pinTo(child.pid, CORE_UNDER_TEST);
      servers.push({ config, child });
    }
    for (const s of servers) await warm(s.child, s.config);
    const [t, r] = servers;
    const ratios = [];
    for (let slice = 0; slice < slices; slice++) {
      const perRequest = new Map();
      for (const s of slice % 2 === 0 ? [t, r] : [r, t]) {
        const before = await cpuSeconds(s.child.pid);
        const result = await load(s.child.port, s.config, seconds);
        const after = await cpuSeconds(s.child.pid);
        await settle([s.child.pid, ...quietPids]);
        // No CPU times (no /proc, or a server gone): no ratio.
        if (before === null || after === null || result.result.requests.total === 0) return [];
        perRequest.set(s, (after - before) / result.result.requests.total);
      }
      ratios.push(perRequest.get(t) / perRequest.get(r));
    }
    return ratios;
  } finally {
    for (const s of servers) s.child.kill();
  }
}

const CORES = availableParallelism();
/** Where the servers under test run in the paired phase; everything else runs on core 0. */
const CORE_UNDER_TEST = CORES >= 2 ? 1 : 0;
const taskset = (args) => new Promise((resolve) => execFile('taskset', args, () => resolve()));

/** Pins a process (all threads) to one core; a no-op on one core or without taskset. */
export async function pinTo(pid, core) {
  if (CORES >= 2) await taskset(['-a', '-p', '-c', String(core), String(pid)]);
}

/** Lets a process run on every core again. */
export async function unpin(pid) {
  if (CORES >= 2) await taskset(['-a', '-p', '-c', `0-${CORES - 1}`, String(pid)]);
}

/** min / lower quartile / median / upper quartile / max of the values. */
export function quartiles(values) {
  const s = values.filter(Number.isFinite).sort((x, y) => x - y);
  if (s.length === 0) return { min: NaN, q1: NaN, median: NaN, q3: NaN, max: NaN };
  const at = (p) => {
    const i = p * (s.length - 1);
    const lo = Math.floor(i);
    return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
  };
  return { min: s[0], q1: at(0.25), median: at(0.5), q3: at(0.75), max: s[s.length - 1] };
}
