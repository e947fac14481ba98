// The soak's counters and the Markdown it prints (progress rows, then the summary tables).
const MiB = 1024 * 1024;

export const mib = (bytes) => (bytes / MiB).toFixed(1);
export const int = (n) => Math.round(n).toLocaleString('en-US');

/** Counts by key, printed as `200:1,234 403:56`. */
export class Tally {
  counts = new Map();
  add(key, n = 1) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toString() {
    if (this.counts.size === 0) return '-';
    return [...this.counts].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, n]) => `${k}:${int(n)}`).join(' ');
  }
}

export const progressHeader = [
  '| elapsed | RSS MiB | heap used / total MiB | cached users (est. MiB) | requests (interval) | req/s | statuses (interval) | upstream calls (interval) | upstream answers (interval) | faults |',
  '|---:|---:|---:|---:|---:|---:|---|---:|---|---|',
].join('\n');

export function progressRow({ elapsed, sample, requests, seconds, statuses, upstream, fault }) {
  const cache = `${int(sample.cache.entries)} (${mib(sample.cache.bytes)})`;
  return `| ${elapsed.toFixed(1)} s | ${mib(sample.memory.rss)} | ${mib(sample.memory.heapUsed)} / ${mib(sample.memory.heapTotal)} | ${cache} | ${int(requests)} | ${int(requests / seconds)} | ${statuses} | ${int(upstream.total)} | ${upstream} | ${fault ?? ''} |`;
}

/** Markdown table of statuses and upstream answers per phase (outside faults, then each window). */
export function phaseTable(windows, byPhase, upstreamByPhase) {
  const lines = [
    '| phase | requests | statuses | upstream calls | upstream answers |',
    '|---|---:|---|---:|---|',
  ];
  const row = (name, key) => {
    const s = byPhase.get(key) ?? new Tally();
    const u = upstreamByPhase.get(key) ?? new Tally();
    lines.push(`| ${name} | ${int(s.total)} | ${s} | ${int(u.total)} | ${u} |`);
  };
  row('no fault', 'clear');
  for (const w of windows) {
    if (!Number.isFinite(w.start)) continue;
    row(`fault ${w.index + 1}: ${w.label}, ${(w.start / 1000).toFixed(1)}–${(w.end / 1000).toFixed(1)} s (+${w.grace / 1000} s grace)`, w.index);
  }
  return lines.join('\n');
}
