// Constants and helpers shared by the servers under test, the upstream (emulator) process and the runner.
// Loopback only and deterministic, so runs can be compared.
import { createHmac } from 'node:crypto';
import { profileOnSignal } from './profile.mjs';

export const HOST = '127.0.0.1';

// One HS256 secret, issuer and audience for every configuration (the emulator signs with the same secret).
export const JWT_SECRET = 'bench-only-hs256-secret-0123456789abcdef0123456789abcdef';
export const JWT_ISSUER = 'https://issuer.bench.local/';
export const JWT_AUDIENCE = 'https://api.bench.local';
export const JWT_ALG = 'HS256';

// GenAuth management credentials of the emulator.
export const USER_POOL_ID = 'bench-pool';
export const ACCESS_KEY_ID = 'bench-ak';
export const ACCESS_KEY_SECRET = 'bench-sk';

// Users: the one the load generator acts as, one with no grants, the users in rotation (g).
export const ALLOWED_USER = 'user-alice';
export const DENIED_USER = 'user-bob';
export const ROTATION_USERS = 10_000;
export const rotationUser = (i) => `rot-${i}`;
/** Users the caching-off row rotates through: enough that concurrent requests rarely share a user. */
export const CACHE_OFF_USERS = 1_000;
/** Grants per user in rotation: a small set, so 10k users fit the default 64 MiB budget (~4 KB each). */
export const ROTATION_GRANTS = 5;

// The single route under test and the GenAuth resource/action it maps to.
export const ROUTE = '/api/v1/servers/:id';
export const TARGET_ID = '42';
export const TARGET_PATH = `/api/v1/servers/${TARGET_ID}`;
export const RESOURCE_OF = (id) => `ecs:${id}`;
export const ACTION = 'ecs:Describe';

/** Namespace holding `n` grants per user (`n100`, `n10000`, `rot`). */
export const namespaceOf = (n) => `n${n}`;

/** The small JSON every route returns. */
export function payload(id) {
  return { id, name: `server-${id}`, status: 'running' };
}

/** Listens on an ephemeral loopback port and tells the runner which one (`READY <port>` on stdout). */
export function announce(server, onClose) {
  server.keepAliveTimeout = 65_000; // longer than any round, so connections are reused
  profileOnSignal();
  server.listen(0, HOST, () => {
    process.stdout.write(`READY ${server.address().port}\n`);
  });
  const stop = () => {
    const done = () => process.exit(0);
    Promise.resolve(onClose?.()).finally(() => server.close(done));
    server.closeAllConnections?.();
    setTimeout(done, 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

/** Bearer token from an Authorization header, or undefined. */
export function bearer(header) {
  if (typeof header !== 'string' || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  return header.slice(7).trim() || undefined;
}

/** Required environment variable, or exit with a clear message. */
export function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`missing environment variable ${name}\n`);
    process.exit(2);
  }
  return v;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/**
 * Signs an HS256 token with node:crypto (about 3 us), cheap enough for the load generator to mint a
 * never-seen token per request. `jti` makes every token distinct.
 */
export function mintHs256(sub, { secret = JWT_SECRET, jti, lifetime = 7200 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + lifetime, scope: 'read:servers' };
  if (jti !== undefined) claims.jti = String(jti);
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
