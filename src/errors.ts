/**
 * Typed errors. Every error a request can end with is a {@link GuardError}: it carries a literal
 * `code`, the HTTP `status` (also as `statusCode`), the response `headers` (RFC 6750
 * `WWW-Authenticate`, `Retry-After`) and `expose`, so Express's and Koa's stock error handlers answer
 * correctly when an adapter is told to pass errors on.
 */

const BRAND = Symbol.for('genauth-guard.GuardError');

/** Every error code a request can end with. */
export type GuardErrorCode =
  | 'ERR_INVALID_REQUEST'
  | 'ERR_MISSING_TOKEN'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_PERMISSION_DENIED'
  | 'ERR_PERMISSIONS_UNAVAILABLE'
  | 'ERR_KEYS_UNAVAILABLE'
  | 'ERR_INTERNAL';

/** Why a token was refused; never echoed to clients beyond this literal. */
export type InvalidTokenReason =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'alg_not_allowed'
  | 'claim_invalid'
  | 'unknown_key'
  | 'identity_claim'
  /** The user was revoked (`revokeUser`, a `user:blocked`/`deleted`/`archived` webhook) after the token was issued. */
  | 'revoked';

/** Base class of all request errors. Check with {@link isGuardError}, which works across ESM/CJS copies. */
export class GuardError extends Error {
  readonly [BRAND] = true;
  readonly code: GuardErrorCode;
  readonly status: number;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** Headers the response must carry. */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether `message` is safe to show a client (it always is: messages are fixed texts). */
  readonly expose: boolean;
  /** Short problem title, used in the problem+json body. */
  readonly title: string;

  constructor(
    code: GuardErrorCode,
    status: number,
    title: string,
    message: string,
    headers: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.statusCode = status;
    this.headers = Object.freeze(headers);
    this.expose = status < 500;
    this.title = title;
  }
}

/** True for any genauth-guard request error, even one from another copy of the package. */
export function isGuardError(value: unknown): value is GuardError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Builds an RFC 6750 `WWW-Authenticate` challenge. */
export function bearerChallenge(realm: string, error?: string, description?: string): string {
  let challenge = `Bearer realm=${quote(realm)}`;
  if (error) challenge += `, error=${quote(error)}`;
  if (description) challenge += `, error_description=${quote(description)}`;
  return challenge;
}

/** 400: the request cannot be evaluated (two `Authorization` headers, a malformed header, a bad path). */
export class InvalidRequestError extends GuardError {
  constructor(message: string, realm = 'api') {
    super('ERR_INVALID_REQUEST', 400, 'Bad Request', message, {
      'www-authenticate': bearerChallenge(realm, 'invalid_request', message),
    });
  }
}

/**
 * The 400 for a request target the guard cannot judge as a path (API mode's unreadable target, a path
 * Koa cannot parse, a target Fastify's router did not read as a path): one fixed text, never the target.
 */
export function unevaluablePathError(realm: string): InvalidRequestError {
  return new InvalidRequestError('The request path cannot be evaluated', realm);
}

/** 401 without an error code: the request carried no bearer token (RFC 6750 section 3.1). */
export class MissingTokenError extends GuardError {
  constructor(realm = 'api') {
    super('ERR_MISSING_TOKEN', 401, 'Unauthorized', 'Bearer token required', {
      'www-authenticate': bearerChallenge(realm),
    });
  }
}

const TOKEN_MESSAGES: Record<InvalidTokenReason, string> = {
  malformed: 'The token is malformed',
  expired: 'The token has expired',
  not_yet_valid: 'The token is not yet valid',
  bad_signature: 'The token signature is invalid',
  alg_not_allowed: 'The token algorithm is not allowed',
  claim_invalid: 'A token claim is invalid',
  unknown_key: 'The token was signed by an unknown key',
  identity_claim: 'The token does not identify a user',
  revoked: 'The token has been revoked',
};

/** 401 `invalid_token`: the token failed verification. */
export class InvalidTokenError extends GuardError {
  readonly reason: InvalidTokenReason;
  constructor(reason: InvalidTokenReason, realm = 'api', options?: { cause?: unknown }) {
    const message = TOKEN_MESSAGES[reason];
    super(
      'ERR_INVALID_TOKEN',
      401,
      'Unauthorized',
      message,
      { 'www-authenticate': bearerChallenge(realm, 'invalid_token', message) },
      options,
    );
    this.reason = reason;
  }
}

/** 403 `insufficient_scope`: the user is known and lacks the permission. */
export class PermissionDeniedError extends GuardError {
  /** The resource that was asked for. */
  readonly resource: string;
  /** The actions that were required. */
  readonly actions: readonly string[];
  constructor(resource: string, actions: readonly string[], realm = 'api') {
    super('ERR_PERMISSION_DENIED', 403, 'Forbidden', 'Permission denied', {
      'www-authenticate': bearerChallenge(realm, 'insufficient_scope'),
    });
    this.resource = resource;
    this.actions = actions;
  }
}

/** 503: GenAuth could not answer and nothing fresh enough is cached. Never a 401 or 403. */
export class PermissionsUnavailableError extends GuardError {
  constructor(retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(
      'ERR_PERMISSIONS_UNAVAILABLE',
      503,
      'Service Unavailable',
      'Permissions are temporarily unavailable',
      { 'retry-after': String(retryAfterSeconds) },
      options,
    );
  }
}

/** 503: the token's verification keys (JWKS or discovery) could not be loaded. */
export class KeysUnavailableError extends GuardError {
  constructor(retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(
      'ERR_KEYS_UNAVAILABLE',
      503,
      'Service Unavailable',
      'Token verification keys are temporarily unavailable',
      { 'retry-after': String(retryAfterSeconds) },
      options,
    );
  }
}

/** 500: the guard could not evaluate the request (e.g. a resource function threw). Fails closed. */
export class GuardInternalError extends GuardError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_INTERNAL', 500, 'Internal Server Error', 'The request could not be authorized', {}, options);
  }
}

/**
 * An upstream (GenAuth) failure. Internal: the guard turns it into a {@link PermissionsUnavailableError};
 * its message names the failure kind and never carries the upstream body.
 */
export class GenAuthApiError extends Error {
  readonly kind: GenAuthFailureKind;
  /** The HTTP status GenAuth answered with, when it answered. */
  readonly httpStatus: number | undefined;
  /**
   * The `statusCode` field of GenAuth's JSON envelope (GenAuth answers business errors with HTTP 200),
   * when the body had one. Not an HTTP status: this error never reaches a client.
   */
  readonly envelopeStatus: number | undefined;
  /** The `apiCode` field of the envelope, when the body had one. */
  readonly apiCode: number | undefined;
  /** Seconds the upstream asked us to wait, when it said so. */
  readonly retryAfter: number | undefined;
  constructor(
    kind: GenAuthFailureKind,
    details: { httpStatus?: number; envelopeStatus?: number; apiCode?: number; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(`GenAuth request failed: ${kind}`, { cause: details.cause });
    this.name = 'GenAuthApiError';
    this.kind = kind;
    this.httpStatus = details.httpStatus;
    this.envelopeStatus = details.envelopeStatus;
    this.apiCode = details.apiCode;
    this.retryAfter = details.retryAfter;
  }
}

/** What kind of upstream failure happened. */
export type GenAuthFailureKind =
  | 'timeout'
  | 'network'
  | 'http_status'
  | 'rate_limited'
  | 'bad_envelope'
  | 'error_envelope'
  | 'credentials'
  | 'user_not_found'
  | 'too_large'
  /** A body in a Content-Encoding other than identity (never decoded). */
  | 'content_encoding'
  /** `totalCount` larger than the list sent: a DENY may be missing. */
  | 'partial_list'
  /**
   * The management token's `scoped_userpool_id` claim names another user pool than `genauth.userPoolId`
   * (the pool id is wrong, or the access key is of another pool): the token is not used.
   */
  | 'pool_mismatch'
  | 'closed';
