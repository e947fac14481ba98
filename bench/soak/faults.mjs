// The soak's upstream faults: one window every `every` seconds, `length` seconds long, cycling
// through the ways GenAuth can fail, on the grants endpoint only (the JWKS and the management token
// are fetched once at start). A request may get 503 only if it overlaps a window or its grace.
export const RESOURCES = '/api/v3/get-user-authorized-resources';

/**
 * After a window closes, 503s may still come for `grace` ms. A failed load is remembered for
 * cache.errorTtl (1 s) and a 429's Retry-After backs the client off (1 s); a load that started in a
 * hang or latency window runs up to the guard's timeout (genauth.timeout, 3 s) first. Plus 1 s of
 * margin for a busy machine.
 */
const QUICK = 3000;
const SLOW = 3000 + 1000 + 1000 + 1000;

export const FAULTS = [
  { label: '503', fault: { kind: 'status', status: 503 }, grace: QUICK },
  { label: '429 Retry-After: 1', fault: { kind: 'status', status: 429, retryAfter: 1 }, grace: QUICK },
  { label: 'drop (socket destroyed)', fault: { kind: 'drop' }, grace: QUICK },
  { label: 'hang x16 (until the guard\'s timeout)', fault: { kind: 'hang', times: 16 }, grace: SLOW },
  { label: 'latency 500 ms', fault: { kind: 'latency', ms: 500 }, grace: SLOW },
  { label: 'drop mid-body x30', fault: { kind: 'drop-mid-body', times: 30 }, grace: QUICK },
];

/** The windows of a run: `{ index, label, fault, grace, start, end }` in ms from the start of the load. */
export function planFaults({ duration, every, length, first = 2 }) {
  const windows = [];
  for (let start = first, k = 0; every > 0 && start + 0.5 < duration; start += every, k++) {
    const { label, fault, grace } = FAULTS[k % FAULTS.length];
    windows.push({ index: windows.length, label, fault: { ...fault, path: RESOURCES }, grace, start: start * 1000, end: Math.min(start + length, duration) * 1000 });
  }
  return windows;
}

/** The last window a request from `started` to `ended` overlaps (its grace included), or undefined. */
export function windowOf(windows, started, ended) {
  return windows.findLast((w) => started <= w.end + w.grace && ended >= w.start);
}
