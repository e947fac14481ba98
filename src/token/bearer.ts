import { InvalidRequestError } from '../errors.js';
import type { RequestLike } from '../request.js';
import { missingTokenError } from './refusal-events.js';

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = '[A-Za-z0-9\\-._~+/]+=*';
const BEARER = new RegExp(`^Bearer +(${B64TOKEN}) *$`, 'i');
const WHOLE_B64TOKEN = new RegExp(`^${B64TOKEN}$`);
const SCHEME = /^Bearer(?: |$)/i;
/** readAuthorization's answer for a request with more than one `Authorization` header. */
const REPEATED: unique symbol = Symbol('repeated');

/** The `Authorization` header as {@link readAuthorization} found it. */
export type AuthorizationHeader = string | undefined | typeof REPEATED;

/** Whether `text` is an RFC 6750 `b64token`: what a Bearer credential may be (a JWT is one). */
export function isB64Token(text: string): boolean {
  return WHOLE_B64TOKEN.test(text);
}

/**
 * The bearer token of an `Authorization` header read by {@link readAuthorization} (query and body
 * tokens are not accepted). Two `Authorization` headers are a 400 `invalid_request`; another scheme
 * counts as no token (told on `genauth-guard:token` as `missing`, as no header is).
 */
export function bearerToken(header: AuthorizationHeader, realm: string): string {
  if (header === REPEATED) throw new InvalidRequestError('More than one Authorization header', realm);
  if (header === undefined || header === '') throw missingTokenError(realm);
  const match = BEARER.exec(header);
  if (match !== null) return match[1] as string;
  if (SCHEME.test(header)) throw new InvalidRequestError('Malformed Bearer authorization header', realm);
  throw missingTokenError(realm);
}

/**
 * The token of an `Authorization` header in its plain form, `Bearer <token>` with one space and nothing
 * around it, without checking its characters; undefined for any other form or for two headers. Only for
 * looking up tokens this guard already verified, which passed {@link bearerToken} then: a header
 * whose token is found was exactly `Bearer ` and a valid token. On a miss, call {@link bearerToken}.
 */
export function plainBearerToken(header: AuthorizationHeader): string | undefined {
  if (header === REPEATED || header === undefined || header.length < 8 || !header.startsWith('Bearer ')) return undefined;
  return header.slice(7);
}

/**
 * The `Authorization` header's value, or REPEATED. With Node's `rawHeaders`, one pass finds the value and
 * a repeat (which `headers` would fold into one) without reading `headers`: on Express every property
 * read from the request is a slow lookup, and `headers` is a getter on its prototype chain.
 */
export function readAuthorization(request: RequestLike): AuthorizationHeader {
  const raw = request.rawHeaders;
  if (raw === undefined) return request.headers.authorization;
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // The two usual spellings compare without toLowerCase, which allocates a string per request.
    if (name.length === 13 && (name === 'authorization' || name === 'Authorization' || name.toLowerCase() === 'authorization')) {
      if (value !== undefined) return REPEATED;
      value = raw[i + 1] as string;
    }
  }
  return value;
}
