/**
 * Revoked users with a shared Redis tier: the in-process store stays the copy every lookup reads
 * (synchronously, on the cached path too); a revocation is also recorded in Redis and published, so
 * every instance adds it to its copy at once (see guard.ts), and a token verified by jose for the first
 * time on an instance has its user's record read from Redis first, so an instance started after a
 * revocation refuses the token too (a token in the verified-token cache does not wait on Redis);
 * with `identity.resolve`, the first request for each user does (identity-lookups.ts). See
 * docs/many-instances.md.
 */
import type { SharedTier } from '../cache/redis/tier.js';
import { createMemoryRevocations, type MemoryRevocationOptions, type RevocationStore } from '../token/revocations.js';

export interface SharedRevocations {
  /** What the verifier reads: the local copy, whose `revoke` also records in Redis and publishes. */
  readonly store: RevocationStore;
  /** A record another instance published: added to the local copy only. */
  learn(userId: string, at: number): void;
}

export function createSharedRevocations(options: MemoryRevocationOptions, tier: SharedTier): SharedRevocations {
  // The memory store object itself is handed out, so `active` stays the plain property the verifier reads.
  const store = createMemoryRevocations(options);
  const remember = store.revoke.bind(store);
  store.revoke = (userId, at) => {
    // The local record first: this instance refuses the token whatever Redis does.
    remember(userId, at);
    return tier.revokeUser(userId, at, options.ttl).then((recorded) => {
      if (recorded > at) remember(userId, recorded);
    });
  };
  store.lookUp = async (userId) => {
    const at = await tier.readRevocation(userId);
    if (typeof at === 'number') remember(userId, at);
    return at !== null;
  };
  return { store, learn: remember };
}
