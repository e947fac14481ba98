// Paired cost measurement: a row's server and a twin of its bare framework loaded at the same time,
// each by its own autocannon, in short slices. Per slice, the ratio of their server CPU time per
// request (twin / row) is what the row's req/s ratio would be with a core to itself. Both servers
// see the same machine at the same moment, so this VM's drift (about 20 % within seconds) cancels,
// which alternating slices only achieve on average. The twin is started with the row and loaded
// whenever the row is: a bare server that had served many more short loads than a fresh one was
// found to cost up to 15 % more per request, so a shared baseline would flatter every row.
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
 * One ratio per two slices: the geometric mean of a slice and the next, whose cores and start order
 * are swapped, so what a core or the first start gives one server cancels within each pair.
 */
export function pairMeans(ratios) {
  const means = [];
  for (let i = 0; i + 1 < ratios.length; i += 2) means.push(Math.sqrt(ratios[i] * ratios[i + 1]));
  return means;
}

/**
 * Ratios (twin CPU per request / row CPU per request), one per slice. `load(port, config, seconds)`
 * resolves with autocannon's result; the twin (`base`) is loaded with its own config, which carries the
 * row's token source.
 */
export async function pairedRatios({ base, row, slices, seconds, load, quietPids = [] }) {
  const ratios = [];
  for (let slice = 0; slice < slices; slice++) {
    // Which server shares a core with the load generator, and whose load starts first, favours one of
    // the two: both alternate from slice to slice, and pairMeans cancels that within each pair.
    const swap = slice % 2 === 1;
    await pin(swap ? [row, base] : [base, row]);
    const before = await Promise.all([cpuSeconds(base.child.pid), cpuSeconds(row.child.pid)]);
    const loads = [() => load(base.child.port, base.config, seconds), () => load(row.child.port, row.config, seconds)];
    const [b, r] = swap ? (await Promise.all([loads[1](), loads[0]()])).reverse() : await Promise.all([loads[0](), loads[1]()]);
    const after = await Promise.all([cpuSeconds(base.child.pid), cpuSeconds(row.child.pid)]);
    await settle([base.child.pid, row.child.pid, ...quietPids]);
    if (before.includes(null) || after.includes(null)) {
      // No CPU times (no /proc, or a server gone): no ratios, and the cores are given back.
      await unpin([base, row]);
      return [];
    }
    const perRequest = (i, res) => (after[i] - before[i]) / res.result.requests.total;
    if (b.result.requests.total > 0 && r.result.requests.total > 0) ratios.push(perRequest(0, b) / perRequest(1, r));
  }
  await unpin([base, row]);
  return ratios;
}

const CORES = availableParallelism();
const taskset = (args) => new Promise((resolve) => execFile('taskset', args, () => resolve()));

/** Pins the first server to core 0 and the second to core 1 (all threads); a no-op on one core or without taskset. */
async function pin([first, second]) {
  if (CORES < 2) return;
  await Promise.all([taskset(['-a', '-p', '-c', '0', String(first.child.pid)]), taskset(['-a', '-p', '-c', '1', String(second.child.pid)])]);
}

async function unpin(servers) {
  if (CORES < 2) return;
  await Promise.all(servers.map((s) => taskset(['-a', '-p', '-c', `0-${CORES - 1}`, String(s.child.pid)])));
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
