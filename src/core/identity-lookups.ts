/**
 * `identity.resolve` with a shared revocation store (Redis): an instance started after a revocation
 * never heard its message, and an identity from another layer carries no token to verify, so the
 * first request this instance sees for a user waits for one read of that user's record
 * (`RevocationStore.lookUp`) before it is decided. Later requests for the user are decided from the
 * local copy, synchronously; revocations made from then on arrive over the subscription. The token
 * path does the same on a token's first verification (verifier.ts `acceptFresh`).
 */
import { LRUCache } from 'lru-cache';
import type { RevocationStore } from '../token/revocations.js';

/**
 * How many users' reads are remembered: the default size of the verified-token cache (which an
 * `identity.resolve` guard has no option for, as it verifies no token). A user evicted past it only
 * costs one more read on their next request, never a missed record.
 */
export const LOOKED_UP_USERS = 10_000;

/** Which users' records this instance has read from the shared store. */
export interface IdentityLookups {
  /**
   * Undefined when the user's record was read already (the request goes on synchronously); else the
   * read: concurrent first requests for one user share it (single flight). Resolves once the record,
   * if any, is in the local copy; a read Redis does not answer in time (the tier's timeout) resolves
   * too, so that request is decided on the local copy (fail open, as a token's first verification),
   * but is not remembered: the user's next request reads again.
   */
  read(userId: string): Promise<void> | undefined;
  /** Reads the user's record again on their next request (the user was invalidated). */
  forgetUser(userId: string): void;
  /** Reads every user's record again (a subscription that came back may have missed records). */
  forgetAll(): void;
}

/** Undefined, and nothing allocated, without a shared store (no `lookUp`). */
export function createIdentityLookups(revocations: RevocationStore, max = LOOKED_UP_USERS): IdentityLookups | undefined {
  if (revocations.lookUp === undefined) return undefined;
  const lookUp = revocations.lookUp.bind(revocations);
  // `true`: read; a promise: being read. A read forgotten while in flight is not marked when it ends
  // (a resync cleared it: the read may predate the subscription), so the next request reads again.
  const reads = new LRUCache<string, Promise<void> | true>({ max });

  function read(userId: string): Promise<void> | undefined {
    const entry = reads.get(userId);
    if (entry === true) return undefined;
    if (entry !== undefined) return entry;
    const pending: Promise<void> = lookUp(userId).then(
      (answered) => {
        if (reads.peek(userId) !== pending) return;
        if (answered) reads.set(userId, true);
        else reads.delete(userId);
      },
      (error: unknown) => {
        // lookUp rejects (a 503) once the local copy may not be trusted: the next request reads again.
        if (reads.peek(userId) === pending) reads.delete(userId);
        throw error;
      },
    );
    reads.set(userId, pending);
    return pending;
  }

  return {
    read,
    forgetUser(userId) {
      reads.delete(userId);
    },
    forgetAll() {
      reads.clear();
    },
  };
}
