// Options of genauth-guard in every guard configuration, from the environment the runner sets:
// GENAUTH_HOST (the emulator), NAMESPACE (n100, n10000, rot), GUARD_CACHE (`off` disables both caches,
// `grants-off` only the grant cache: `cache: false` as a user writes it).
import {
  ACCESS_KEY_ID, ACCESS_KEY_SECRET, JWT_ALG, JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, USER_POOL_ID, requireEnv,
} from './common.mjs';

export function guardOptions() {
  const cacheOff = process.env.GUARD_CACHE === 'off';
  const grantsOff = cacheOff || process.env.GUARD_CACHE === 'grants-off';
  // Warm rows keep grants and verified tokens for the whole run: they measure the hot path, not refreshes.
  const warmTtl = Number(process.env.GUARD_TTL ?? 3_600_000);
  return {
    genauth: {
      host: requireEnv('GENAUTH_HOST'),
      userPoolId: USER_POOL_ID,
      accessKeyId: ACCESS_KEY_ID,
      accessKeySecret: ACCESS_KEY_SECRET,
      namespace: requireEnv('NAMESPACE'),
      // Raised only for runs under valgrind (bench/instructions.mjs), where everything is 50x slower.
      ...(process.env.GUARD_TIMEOUT ? { timeout: Number(process.env.GUARD_TIMEOUT) } : {}),
    },
    jwt: {
      secret: JWT_SECRET,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      algorithms: [JWT_ALG],
      // Caching off: every request verifies its token. Otherwise verified tokens stay cached across
      // the whole run (default maxAge is 5 min): row g's 10k tokens come back only once per round,
      // minutes apart, and would be re-verified, measuring expiry rather than the hot path.
      tokenCache: cacheOff ? { max: 0 } : { maxAge: warmTtl },
    },
    cache: grantsOff
      ? // Nothing kept between requests: each request loads (concurrent requests for the same user
        // still share one load, which is part of the product).
        false
      : {
          ttl: warmTtl,
          // 10,000 grants (~7 MB estimated) exceed the default 4 MiB per-user budget: raise it so they are cached.
          ...(process.env.GUARD_MAX_ENTRY_BYTES ? { maxEntryBytes: Number(process.env.GUARD_MAX_ENTRY_BYTES) } : {}),
        },
    logger: false,
  };
}
