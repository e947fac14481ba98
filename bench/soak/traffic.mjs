// The soak's load: a bounded number of workers sending the Express example's routes with rotating
// users' tokens (a hot set plus a rotating long tail, so the guard's caches churn), denied routes,
// refused tokens and health checks; every answer is checked against what that request may get.
import { Pool } from 'undici';
import { SERVERS, churns, readsReports, serverOf, userId } from './tenant.mjs';

/** Deterministic PRNG (mulberry32), so two runs send the same mix. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Share of requests per kind (cumulative thresholds below).
const MIX = [
  ['start-own', 0.45], // POST the user's own server: 200
  ['start-other', 0.2], // POST another server: 403
  ['reports', 0.2], // GET reports: 200 or 403 by user
  ['invalid-token', 0.07], // 401
  ['no-token', 0.03], // 401
  ['health', 0.05], // unprotected: 200
];

const ERROR_CODE = { 401: ['ERR_INVALID_TOKEN', 'ERR_MISSING_TOKEN'], 403: ['ERR_PERMISSION_DENIED'], 503: ['ERR_PERMISSIONS_UNAVAILABLE'] };

/** Builds the next request: its route, token and the statuses it may get outside an upstream fault. */
export function createPlanner(tenant, { hot, random }) {
  let tail = 0;
  let invalid = 0;
  const pickUser = () => (random() < 0.7 ? Math.floor(random() * Math.min(hot, tenant.users)) : tail++ % tenant.users);
  return function next() {
    let r = random();
    let kind = MIX[MIX.length - 1][0];
    for (const [name, share] of MIX) {
      if (r < share) { kind = name; break; }
      r -= share;
    }
    if (kind === 'health') return { kind, method: 'GET', path: '/health', allowed: [200] };
    if (kind === 'no-token') return { kind, method: 'POST', path: '/api/v1/servers/1/start', allowed: [401] };
    if (kind === 'invalid-token') {
      const token = tenant.invalidTokens[invalid++ % tenant.invalidTokens.length];
      return { kind, method: 'GET', path: '/api/v1/reports', token, allowed: [401] };
    }
    const i = pickUser();
    const base = { kind, user: i, token: tenant.tokens[i], granted: tenant.granted[i] };
    // A churning user's grants change under the cache: until its cached grants expire (or are
    // invalidated), either answer is right. Everyone else must get exactly their answer.
    const maybe = (yes) => (churns(i) ? [200, 403] : [yes ? 200 : 403]);
    if (kind === 'reports') return { ...base, method: 'GET', path: '/api/v1/reports', allowed: maybe(readsReports(i)) };
    const server = kind === 'start-own' ? serverOf(i) : (serverOf(i) + 1 + Math.floor(random() * (SERVERS - 1))) % SERVERS;
    return { ...base, method: 'POST', path: `/api/v1/servers/${server}/start`, allowed: kind === 'start-own' ? maybe(true) : [403] };
  };
}

/** Why this answer is wrong for this request, or undefined when it is right (503 is judged by the caller). */
function problemWith(request, status, headers, body) {
  if (status === 503) {
    if (!/^\d+$/.test(String(headers['retry-after'] ?? ''))) return '503 without a Retry-After';
  } else if (!request.allowed.includes(status)) {
    return `status ${status}, expected ${request.allowed.join(' or ')}`;
  }
  if (status === 200 && request.user !== undefined) {
    const json = JSON.parse(body);
    const who = json.by ?? json.for;
    if (who !== userId(request.user)) return `200 for ${userId(request.user)} answered as ${who}`;
  }
  if (ERROR_CODE[status]) {
    let code;
    try { code = JSON.parse(body).code; } catch { /* reported below */ }
    if (!ERROR_CODE[status].includes(code)) return `${status} with code ${code}`;
    if (status !== 503 && !String(headers['www-authenticate'] ?? '').startsWith('Bearer')) return `${status} without a Bearer challenge`;
  }
  return undefined;
}

/**
 * Runs `concurrency` workers against `origin` until `until()` is false; each answer goes to
 * `record(request, outcome)` with outcome { status, problem, started, ended } (times from `clock`).
 */
export async function runLoad({ origin, concurrency, until, next, record, clock }) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const worker = async () => {
    while (until()) {
      const request = next();
      const started = clock();
      let outcome;
      try {
        const res = await pool.request({
          method: request.method,
          path: request.path,
          headers: request.token ? { authorization: `Bearer ${request.token}` } : {},
        });
        const body = await res.body.text();
        outcome = { status: res.statusCode, problem: problemWith(request, res.statusCode, res.headers, body) };
      } catch (error) {
        outcome = { status: 'error', problem: `request failed: ${error.code ?? error.message}` };
      }
      record(request, { ...outcome, started, ended: clock() });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.close();
  }
}
