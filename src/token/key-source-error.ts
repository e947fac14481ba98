/**
 * What went wrong with a remote key source, told by the guard's own fetch of it: the fetch failed
 * (network; or a status other than 200, carried in `status`), the answer is not JSON, the discovery
 * document is not a JSON object, its `issuer` differs from `jwt.issuer` (or it has no `jwks_uri`), its
 * `jwks_uri` is not a URL the keys may be fetched from, or it is on a port fetch refuses
 * (key-set-url.ts).
 */
export type KeySourceFailure = 'fetch' | 'not_json' | 'not_object' | 'issuer_mismatch' | 'jwks_uri_not_https' | 'jwks_uri_bad_port';

/**
 * Raised when keys cannot be obtained (discovery or JWKS down): the guard answers 503. The set-up
 * problem is told by `failure` and `status`, never by the message; jose passes it on as it is when the
 * key set's fetch rejects with it (key-set-fetch.ts).
 */
export class KeySourceError extends Error {
  /** The HTTP status the discovery document or the key set was answered with, when it was not 200. */
  readonly status: number | undefined;
  constructor(
    message: string,
    /** Which failure it is: the set-up problem is told by it, never by the message. */
    readonly failure: KeySourceFailure,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.status = options?.status;
    this.name = 'KeySourceError';
  }
}
