// Paired cost measurement: a row's server and its baseline's server loaded at the same time, each by
// its own autocannon, in short slices. Per slice, the ratio of their server CPU time per request
// (baseline / row) is what the row's req/s ratio would be with a core to itself. Both servers see the
// same machine at the same moment, so this VM's drift (about 20 % within seconds) cancels, which
// alternating slices only achieve on average. A second instance of each baseline, measured against
// the first the same way, shows what is left of the noise.
import { readFile } from 'node:fs/promises';

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
 * Ratios (baseline CPU per request / row CPU per request), one per slice. `load(port, config, seconds)`
 * resolves with autocannon's result; the baseline is loaded with the row's token source, like the row.
 */
export async function pairedRatios({ base, row, slices, seconds, load, quietPids = [] }) {
  const ratios = [];
  const baseConfig = { ...base.config, token: row.config.token, tokenKey: `${base.config.id}:paired:${row.config.id}` };
  for (let slice = 0; slice < slices; slice++) {
    const before = await Promise.all([cpuSeconds(base.child.pid), cpuSeconds(row.child.pid)]);
    const [b, r] = await Promise.all([load(base.child.port, baseConfig, seconds), load(row.child.port, row.config, seconds)]);
    const after = await Promise.all([cpuSeconds(base.child.pid), cpuSeconds(row.child.pid)]);
    await settle([base.child.pid, row.child.pid, ...quietPids]);
    if (before.includes(null) || after.includes(null)) return [];
    const perRequest = (i, res) => (after[i] - before[i]) / res.result.requests.total;
    if (b.result.requests.total > 0 && r.result.requests.total > 0) ratios.push(perRequest(0, b) / perRequest(1, r));
  }
  return ratios;
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
