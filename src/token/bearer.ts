import { InvalidRequestError, MissingTokenError } from '../errors.js';
import type { RequestLike } from '../request.js';

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^Bearer(?: |$)/i;

/**
 * Reads the bearer token from the `Authorization` header only (query and body tokens are not
 * accepted). Two `Authorization` headers are a 400 `invalid_request`; another scheme counts as no token.
 */
export function extractBearerToken(request: RequestLike, realm: string): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new MissingTokenError(realm);
  const raw = request.rawHeaders;
  if (raw !== undefined && countAuthorization(raw) > 1) {
    throw new InvalidRequestError('More than one Authorization header', realm);
  }
  const match = BEARER.exec(header);
  if (match !== null) return match[1] as string;
  if (SCHEME.test(header)) throw new InvalidRequestError('Malformed Bearer authorization header', realm);
  throw new MissingTokenError(realm);
}

function countAuthorization(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}
