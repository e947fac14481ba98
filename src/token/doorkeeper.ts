/** The verified-token cache's admission filter. */

/**
 * Admission to a full verified-token cache. A token that evicts another must have been verified once
 * before, remembered as a 32-bit fingerprint of its signature's tail in a direct-mapped table (no
 * string kept, no allocation). A stream of tokens used once (a token per request, a flood of fresh
 * logins) then neither flushes the tokens that repeat nor churns the cache: each churned entry is a
 * long-lived object turned garbage. A collision only admits a token early; every token is verified
 * before it is admitted.
 */
export function createDoorkeeper(max: number): (token: string) => boolean {
  let size = 1;
  while (size < max) size *= 2;
  const table = new Uint32Array(size);
  const mask = size - 1;
  return (token) => {
    // FNV-1a over the last 16 characters: the signature, unique to each token.
    let hash = 0x811c9dc5;
    for (let i = Math.max(0, token.length - 16); i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
    const slot = hash & mask;
    const fingerprint = (hash | 1) >>> 0; // never 0, the empty slot
    if (table[slot] === fingerprint) {
      table[slot] = 0;
      return true;
    }
    table[slot] = fingerprint;
    return false;
  };
}
