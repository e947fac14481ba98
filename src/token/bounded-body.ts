/**
 * Reading a key source's answer (the JWKS, the OIDC discovery document) with a bound on its size. jose
 * reads a key set whole (`response.json()`), with no bound: an issuer that is compromised or
 * misconfigured could answer a body of gigabytes, or one without end, and the guard would hold it all.
 */

/**
 * Most bytes of a key set or discovery document read, by default (`jwt.jwks.maxResponseBytes`): 1 MiB.
 * Real ones are a few KiB (a key set of ten RSA keys with their `x5c` chains, about 50 KiB); peers bound
 * them from 50 KiB (Nimbus, which some issuers' sets outgrew) to 10 MB (Go's jwx).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** What a too-large answer was: the key set, or the discovery document. */
export type KeySourceDocument = 'jwks' | 'discovery';

/** A key source answered more than `jwt.jwks.maxResponseBytes`: a failed fetch (503), never a 401. */
export class KeySourceTooLargeError extends Error {
  readonly code = 'ERR_KEY_SOURCE_TOO_LARGE';
  constructor(
    /** The bound it passed, in bytes (the guard's own option, never anything the server sent). */
    readonly limit: number,
    readonly document: KeySourceDocument,
  ) {
    super(`the ${document === 'jwks' ? 'key set' : 'discovery document'} answer is larger than ${limit} bytes`);
    this.name = 'KeySourceTooLargeError';
  }
}

function ignore(): void {}

/** Drops an answer's unread body (a failed cancel is of no interest): the connection is not left holding it. */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(ignore);
}

/**
 * The body's text, as `response.text()` gives it (UTF-8, a leading BOM dropped), when it holds at most
 * `limit` bytes once decoded; else rejects with a {@link KeySourceTooLargeError} having read no more
 * than `limit` bytes past what one chunk brings, and cancels the rest (fetch closes the connection).
 * The count is of the decoded bytes, so a compressed body that inflates past the bound is cut off too;
 * an uncompressed one declaring more by its content-length is refused before any byte is read. A body
 * that trickles in is the fetch's `signal` to end: a timeout rejects the read.
 */
export async function readBoundedText(response: Response, limit: number, document: KeySourceDocument): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const encoding = response.headers.get('content-encoding');
  // With a coding, content-length counts the encoded bytes: only the decoded count below decides.
  if ((encoding === null || encoding.trim().toLowerCase() === 'identity') && Number(response.headers.get('content-length')) > limit) {
    discardBody(response);
    throw new KeySourceTooLargeError(limit, document);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      chunks.length = 0;
      reader.cancel().catch(ignore);
      throw new KeySourceTooLargeError(limit, document);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}
