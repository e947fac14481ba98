/**
 * Set-up mistakes said once, clearly: a wrong host, a TLS failure, a JWKS that is not one, a discovery
 * document of another issuer, tokens of another issuer or audience, refused credentials, a management
 * token of another user pool, an answer past genauth.maxResponseBytes, Redis down.
 * Each failure seen where it happens (key source, GenAuth client, Redis, token claims) is turned into a
 * {@link SetupProblem} naming the option to check; the first of each kind is logged (then at most once a
 * minute), and `guard.ready()` rejects with the same problems. Causes are our own words: never a token,
 * a secret or an upstream body.
 */
import { GenAuthApiError } from '../errors.js';
import { NOT_A_TENANT_MEMBER_API_CODE } from '../genauth/envelope.js';
import { RedisTierError, type TierCommand } from '../cache/redis/bounded.js';
import { credentialsRefused, throttle, WARNING_INTERVAL_MS } from '../genauth/warnings.js';
import { KeySourceTooLargeError } from '../token/bounded-body.js';
import { KeySourceError } from '../token/keys.js';
import type { Clock } from '../options/types.js';

/** What went wrong, one kind per log line. */
export type SetupProblemKind =
  | 'unreachable'
  | 'tls'
  | 'timeout'
  | 'key_source_status'
  | 'key_source_not_json'
  | 'key_source_invalid'
  /** The key set or discovery document answered more than `jwt.jwks.maxResponseBytes`. */
  | 'key_source_too_large'
  | 'discovery_mismatch'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'credentials'
  /**
   * The management token is scoped to another user pool (its `scoped_userpool_id` claim) than
   * `genauth.userPoolId`: the pool id is wrong, or the access key is of another pool. The token is not used.
   */
  | 'pool_mismatch'
  | 'namespace'
  /**
   * GenAuth answered (a 2xx) more than `genauth.maxResponseBytes`, and the read was cut off: a limit a
   * retry meets again. (A 5xx or 429 with a long page is `upstream`, an outage.)
   */
  | 'too_large'
  /**
   * GenAuth answered apiCode 2120008 ("user disabled or not a member of this tenant") to a warm.users
   * user, or to several distinct users in a row: `genauth.tenantId` (or the header it is sent in) is
   * likely wrong. One user so answered is that user's business, never this problem.
   */
  | 'tenant'
  /**
   * Without `genauth.tenantId`, GenAuth answered apiCode 2120008 to a warm.users user: that user is
   * disabled (or not a member of a tenant GenAuth applies on its own); no tenant option is to blame.
   * Its `option` is `warm.users`, where the user comes from.
   */
  | 'user_refused'
  /**
   * GenAuth answered fewer grants than its `totalCount` (the call has no paging: a fault on GenAuth's
   * side, or the answer cut), and a DENY may be among those left out: refused unless
   * `genauth.acceptPartialLists`. An answer, which a retry is likely to get again: not an outage.
   */
  | 'partial_list'
  /**
   * `check-config` only, under the signature scheme without `warm.users`: its signed call for a made-up
   * user was answered apiCode 2120008, which does not show the credentials were accepted (GenAuth does
   * not document whether the signature is checked before the user). Its `option` is `warm.users`.
   */
  | 'credentials_unverified'
  | 'upstream'
  | 'redis'
  /**
   * Redis's ACL refuses the guard's Redis user (`cache.redis`) a command the shared tier needs (Redis
   * answered NOPERM): GET, EVAL (and the commands its scripts run on the tier's keys), PUBLISH or
   * SUBSCRIBE on its channel. Not an outage: a retry meets it again. The cause names the commands.
   */
  | 'redis_permission'
  /** `ready()` after `close()` (or while it ran): the guard answers every request with a 503. Its `option` is empty. */
  | 'closed';

/** One set-up problem: the option to check and why (our words only, safe to log and show). */
export interface SetupProblem {
  readonly kind: SetupProblemKind;
  /** The option path to check, e.g. `jwt.jwksUri` or `genauth.host`. */
  readonly option: string;
  /** What is wrong, in a sentence without any secret, token or upstream text. */
  readonly cause: string;
  /**
   * The status that was answered, when the problem is about one and the guard knows it: a
   * `key_source_status` (the key set's or the discovery document's), and `upstream` (GenAuth's HTTP
   * status unless a 2xx, else its envelope's `statusCode`). A 5xx or 429 is an outage; an `upstream`
   * problem without one (no answer came) is too.
   */
  readonly status?: number;
}

/** Codes of Node's TLS certificate failures (and undici's wrapping of them). */
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/;
/**
 * Codes of a host that cannot be reached at all. Not a reset or a closed socket: those happen to a
 * right host too (a keep-alive race) and are passing trouble, not a set-up mistake.
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The `code`s along an error's cause chain (fetch wraps the socket's error in a TypeError). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errors = (current as { errors?: unknown }).errors;
    // An AggregateError (IPv4 and IPv6 both refused) holds the socket errors in `errors`.
    if (Array.isArray(errors)) for (const inner of errors) codes.push(...codesOf(inner));
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** The `name`s along an error's cause chain. */
function namesOf(error: unknown): string[] {
  const names: string[] = [];
  for (let current = error, depth = 0; depth < 5 && current instanceof Error; current = current.cause, depth++) names.push(current.name);
  return names;
}

/** The `code` of a jose error (its stable, documented identifier: `ERR_JWKS_INVALID`), else undefined. */
function joseCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_J') ? code : undefined;
}

/** A transport failure reaching `what` (configured by `option`), or undefined when it was none. */
export function transportProblem(error: unknown, option: string, what: string): SetupProblem | undefined {
  const codes = codesOf(error);
  const tls = codes.find((code) => TLS_CODES.test(code));
  if (tls !== undefined) {
    return { kind: 'tls', option, cause: `TLS to ${what} failed (${tls}): check the URL's host and the server's certificate chain (NODE_EXTRA_CA_CERTS for a private CA)` };
  }
  const unreachable = codes.find((code) => UNREACHABLE_CODES.has(code));
  if (unreachable !== undefined) return { kind: 'unreachable', option, cause: `${what} is unreachable (${unreachable}): check the host and port` };
  // A code (jose's ERR_JWKS_TIMEOUT, undici's UND_ERR_*_TIMEOUT) or a name (the TimeoutError of an
  // AbortSignal.timeout, under the KeySourceError of a discovery fetch) anywhere along the chain.
  if (codes.some((code) => /TIMEOUT/.test(code)) || namesOf(error).some((name) => /Timeout/.test(name))) {
    return { kind: 'timeout', option, cause: `${what} did not answer in time: check the host, the network and the timeout` };
  }
  return undefined;
}

/** The option of the configured key source: `jwt.secret`, `jwt.publicKey`, `jwt.jwksUri`, or `jwt.issuer` (discovery). */
export function keySourceOption(jwt: { secret?: unknown; publicKey?: unknown; jwksUri?: unknown } | undefined): string {
  if (jwt?.secret !== undefined) return 'jwt.secret';
  if (jwt?.publicKey !== undefined) return 'jwt.publicKey';
  if (jwt?.jwksUri !== undefined) return 'jwt.jwksUri';
  return 'jwt.issuer';
}

/** Why a key source failed; `option` is the one {@link keySourceOption} named. */
export function keySourceProblem(error: unknown, option: string): SetupProblem {
  if (option === 'jwt.publicKey' || option === 'jwt.secret') {
    // A local key: nothing was fetched, so no transport or status to tell; jose refused the key itself.
    const name = error instanceof Error ? error.name : '';
    return { kind: 'key_source_invalid', option, cause: `the configured key (${option}) could not be used (${name || 'unknown error'}): check its type and size against jwt.algorithms` };
  }
  const what = option === 'jwt.jwksUri' ? 'the JWKS URL' : 'the OIDC discovery document (jwt.issuer + /.well-known/openid-configuration)';
  if (error instanceof KeySourceTooLargeError) {
    const which = error.document === 'jwks' && option !== 'jwt.jwksUri' ? "the key set the discovery document names (its jwks_uri)" : what;
    return {
      kind: 'key_source_too_large',
      option,
      cause: `${which} answered more than ${error.limit} bytes (jwt.jwks.maxResponseBytes), and the read was cut off: check that the URL points at the key set; raise jwt.jwks.maxResponseBytes only if the issuer really publishes that much`,
    };
  }
  const transport = transportProblem(error, option, what);
  if (transport !== undefined) return transport;
  const name = error instanceof Error ? error.name : '';
  // Told by what failed (our KeySourceError's failure and status, jose's error codes), never by an
  // error's words: jose may reword its messages in any release (test/core/key-source-problem.test.ts).
  if (error instanceof KeySourceError && error.failure === 'jwks_uri_not_https') {
    return { kind: 'discovery_mismatch', option: 'jwt.issuer', cause: "the discovery document's jwks_uri is not https (http only with an http jwt.issuer, for local development): the keys are not fetched over an unprotected connection; check the issuer's metadata" };
  }
  if (error instanceof KeySourceError && error.failure === 'jwks_uri_bad_port') {
    return { kind: 'key_source_invalid', option: 'jwt.issuer', cause: "the discovery document's jwks_uri is on a port that fetch refuses (a \"bad port\" of the WHATWG Fetch standard, such as 22, 25, 6000 or 6667): the key set can never be fetched; the issuer's metadata must name it on another port" };
  }
  if (error instanceof KeySourceError && error.failure === 'not_object') {
    return { kind: 'key_source_invalid', option, cause: `${what} answered JSON that is not an object (null, a number, a string, a boolean or an array): check that jwt.issuer is the URL the issuer serves its metadata under` };
  }
  if (error instanceof KeySourceError && error.failure === 'issuer_mismatch') {
    return { kind: 'discovery_mismatch', option: 'jwt.issuer', cause: "the discovery document's issuer differs from jwt.issuer (compare them exactly, trailing slash included), or it has no jwks_uri" };
  }
  if (error instanceof KeySourceError && error.status !== undefined) {
    return { kind: 'key_source_status', option, status: error.status, cause: `${what} answered HTTP ${error.status}: check the URL's path` };
  }
  if (error instanceof KeySourceError && error.failure === 'not_json') {
    return { kind: 'key_source_not_json', option, cause: `${what} did not answer JSON: check that the URL points at the key set, not a web page` };
  }
  // jose's refusal of JSON that is no key set (its JWKSInvalid).
  if (joseCode(error) === 'ERR_JWKS_INVALID') return { kind: 'key_source_invalid', option, cause: `${what} did not answer a JSON Web Key Set ({"keys": [...]})` };
  return { kind: 'key_source_invalid', option, cause: `${what} could not be used (${name || 'unknown error'})` };
}

/**
 * The status GenAuth answered a failed call with, as a problem's `status`: the HTTP status unless it
 * is a 2xx, else its envelope's `statusCode`, else the HTTP status; nothing when no answer came.
 */
export function upstreamStatus(error: unknown): { status?: number } {
  if (!(error instanceof GenAuthApiError)) return {};
  const { httpStatus, envelopeStatus } = error;
  const status = httpStatus !== undefined && (httpStatus < 200 || httpStatus > 299) ? httpStatus : (envelopeStatus ?? httpStatus);
  return status === undefined ? {} : { status };
}

/** Whether a status is an outage (5xx, 429: worth a retry) rather than an answer to fix something by. */
export function isOutageStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * Whether a problem is an outage (worth a retry: the CLI's exit 3) rather than a mistake to fix (1), by
 * its kind and the status it carries, never by its cause's words. Transport failures are outages; so
 * are a 5xx and a 429, and an `upstream` problem without a status (no answer came: a dropped
 * connection). Every other kind is an answer to fix something by: refused credentials, a management
 * token of another user pool than `genauth.userPoolId` (`pool_mismatch`), a warmed user outside
 * `genauth.tenantId` (`tenant`), a partial list (`partial_list`: an answer), a wrong namespace, host or
 * path, TLS, a key source answering what is not a usable key set (not JSON, not a key set or discovery
 * document, more than `jwt.jwks.maxResponseBytes`), a mismatched issuer or audience, Redis. A
 * `key_source_status` without its status is no known outage here (check-config asks the key source again).
 */
export function isOutage(problem: SetupProblem): boolean {
  switch (problem.kind) {
    case 'unreachable':
    case 'timeout':
      return true;
    case 'upstream':
      return problem.status === undefined || isOutageStatus(problem.status);
    case 'key_source_status':
      return problem.status !== undefined && isOutageStatus(problem.status);
    default:
      return false;
  }
}

/** Why a GenAuth call failed, when a set-up mistake explains it; undefined for passing trouble (5xx, 429, a user unknown). */
export function genauthProblem(error: unknown): SetupProblem | undefined {
  if (!(error instanceof GenAuthApiError)) return undefined;
  if (error.kind === 'credentials') {
    return {
      kind: 'credentials',
      option: 'genauth.accessKeySecret',
      cause: `${credentialsRefused(error)}: check genauth.userPoolId, accessKeyId, accessKeySecret, host and headerPrefix`,
    };
  }
  if (error.kind === 'pool_mismatch') {
    // Neither pool id is named: the claim is GenAuth's text, and the line is read where the token is not.
    return {
      kind: 'pool_mismatch',
      option: 'genauth.userPoolId',
      cause: 'GenAuth gave a management token scoped to another user pool (its "scoped_userpool_id" claim) than genauth.userPoolId; the token is not used: check genauth.userPoolId, and that genauth.accessKeyId is that pool\'s id or an access key of that pool',
    };
  }
  // Cut off at the limit: too many grants for it, or a host that is not the API. Only a 2xx: a 5xx or
  // 429 with a long page is passing trouble like any other.
  if (error.kind === 'too_large' && (error.httpStatus === undefined || (error.httpStatus >= 200 && error.httpStatus <= 299))) {
    return {
      kind: 'too_large',
      option: 'genauth.maxResponseBytes',
      cause: 'GenAuth answered more than genauth.maxResponseBytes, and the read was cut off: raise genauth.maxResponseBytes if a user really has that many grants; otherwise check that genauth.host is the GenAuth API',
    };
  }
  // No count is named: the client's own warning names both (call.partialList).
  if (error.kind === 'partial_list') {
    return {
      kind: 'partial_list',
      option: 'genauth.acceptPartialLists',
      cause: "GenAuth answered a partial list of a user's grants (fewer than its totalCount: a paging fault on GenAuth's side, or the answer cut), and a DENY may be among those left out, so the user is refused (a 503); the call has no paging, so a retry is likely to get the same answer: ask GenAuth about it (genauth.acceptPartialLists: true uses such lists as sent, any DENY left out unapplied)",
    };
  }
  if (error.kind === 'network' || error.kind === 'timeout') {
    return transportProblem(error.cause, 'genauth.host', 'GenAuth (genauth.host)') ??
      (error.kind === 'timeout' ? { kind: 'timeout', option: 'genauth.host', cause: 'GenAuth (genauth.host) did not answer in time: check the host, the network and genauth.timeout' } : undefined);
  }
  // A 404 that is not "user not found" (apiCode 2004, a plain 403): what GenAuth answers for a
  // permission space it does not have (its message is not ours to log, nor matched: it is localized).
  if (error.kind === 'error_envelope' && error.envelopeStatus === 404) {
    return {
      kind: 'namespace',
      option: 'genauth.namespace',
      cause: `GenAuth answered statusCode 404 (apiCode ${String(error.apiCode)}) to the grants query: check genauth.namespace (the code of a permission space of this user pool) and genauth.userIdType (a user GenAuth does not know, when its answer lacks apiCode 2004, looks the same)`,
    };
  }
  if (error.kind === 'http_status' && error.httpStatus === 404) {
    return { kind: 'upstream', option: 'genauth.host', status: 404, cause: 'GenAuth (genauth.host) answered HTTP 404 for its API: check that the host is the GenAuth API origin, without a path' };
  }
  if (error.kind === 'bad_envelope' || error.kind === 'content_encoding') {
    return { kind: 'upstream', option: 'genauth.host', ...upstreamStatus(error), cause: 'genauth.host answered something that is not the GenAuth API: check the host' };
  }
  return undefined;
}

/**
 * Whether GenAuth refused the user as disabled or outside the tenant (apiCode 2120008): an answer about
 * one user (the credentials were taken), which the client reads as an `error_envelope`.
 */
export function refusedAsNonMember(error: unknown): boolean {
  return error instanceof GenAuthApiError && error.kind === 'error_envelope' && error.apiCode === NOT_A_TENANT_MEMBER_API_CODE;
}

/**
 * The tenant is likely wrong: apiCode 2120008 came for `who`; `also` is what else to check, if anything
 * (our words: never a user id or GenAuth's text).
 */
export function tenantProblem(who: string, also = ''): SetupProblem {
  return {
    kind: 'tenant',
    option: 'genauth.tenantId',
    cause: `GenAuth answered apiCode 2120008 (user disabled or not a member of this tenant) for ${who}: check genauth.tenantId (the id of a tenant of this user pool) and genauth.tenantHeader (the header your GenAuth reads it from)${also}`,
  };
}

/**
 * Redis's ACL refuses the guard's user `commands` (NOPERM). Named from the commands the tier ran, never
 * from Redis's text (which names the ACL user).
 */
export function redisPermissionProblem(commands: readonly TierCommand[]): SetupProblem {
  const named = commands.length > 0 ? [...new Set(commands)].join(', ') : 'a command the shared tier needs';
  return {
    kind: 'redis_permission',
    option: 'cache.redis',
    cause:
      `Redis's ACL refuses the Redis client's user ${named} (NOPERM): the shared tier needs GET, EVAL (its scripts run GET, SET, DEL, ` +
      'PEXPIRE, TYPE and STRLEN) on the keys under cache.redisPrefix, and PUBLISH and SUBSCRIBE on its channel (which starts with cache.redisPrefix); ' +
      'until then this instance cannot prove its invalidation subscription, which counts as down (cache.redisMaxUnsubscribed)',
  };
}

/**
 * apiCode 2120008 for a user the operator expects to work (`who`: a warm.users user, the user a CLI
 * command asked about). With `genauth.tenantId` set, the tenant (or its header) is likely wrong, or the
 * user no enabled member of it; without, no tenant option applies: the user is likely disabled.
 */
export function refusedUserProblem(who: string, tenant: boolean): SetupProblem {
  if (tenant) return tenantProblem(who, ', and that the user is an enabled member of that tenant');
  return {
    kind: 'user_refused',
    option: 'warm.users',
    cause: `GenAuth answered apiCode 2120008 (user disabled or not a member of this tenant) for ${who}, with no tenant named: the user is likely disabled; check in GenAuth that it is enabled`,
  };
}

/**
 * check-config's signed call for a made-up user (the signature scheme without `warm.users`) was answered
 * apiCode 2120008: an answer about that user, which GenAuth's docs do not say comes only after the
 * signature passed. So no claim that the credentials were accepted: a real user's load (warm.users)
 * checks them. `tenant`: whether `genauth.tenantId` is set (names whom to list).
 */
export function unverifiedCredentialsProblem(tenant: boolean): SetupProblem {
  const whom = tenant ? 'a member of the tenant (genauth.tenantId)' : 'an enabled user';
  return {
    kind: 'credentials_unverified',
    option: 'warm.users',
    cause: `the signed call for a made-up user was answered apiCode 2120008 (user disabled or not a member of this tenant), an answer about that user; GenAuth does not document whether it checks the signature before it looks up the user, so this does not show that GenAuth accepted the credentials: list ${whom} in warm.users to check them with that user's signed load`,
  };
}

/** Why Redis failed the readiness check. */
export function redisProblem(error: unknown): SetupProblem {
  const reason = error instanceof RedisTierError ? error.reason : 'error';
  if (reason === 'denied') return redisPermissionProblem((error as RedisTierError).commands);
  const how = reason === 'not-ready' ? 'is not connected (call connect() on it first)' : reason === 'timeout' ? 'did not answer within cache.redisTimeout' : 'failed a command';
  return { kind: 'redis', option: 'cache.redis', cause: `the Redis client ${how}` };
}

/** A claim check that refused a token while no token has verified yet: likely `jwt.issuer`/`jwt.audience` is wrong. */
export function claimProblem(claim: 'iss' | 'aud', configured: string | readonly string[] | undefined): SetupProblem {
  if (claim === 'iss') {
    const slash = typeof configured === 'string' && configured.endsWith('/') ? ' (jwt.issuer ends with a slash: GenAuth issuers usually do not)' : '';
    return { kind: 'issuer_mismatch', option: 'jwt.issuer', cause: `tokens are refused on their "iss" claim, which differs from jwt.issuer${slash}; compare them exactly` };
  }
  return { kind: 'audience_mismatch', option: 'jwt.audience', cause: 'tokens are refused on their "aud" claim, which holds none of jwt.audience (the application id the tokens are issued for)' };
}

/**
 * True for a problem worth a line when seen on a request: a timeout there is passing trouble (it has
 * its channel), a partial list has its own warning naming the counts; `ready()` still reports both.
 */
export function isSetupMistake(problem: SetupProblem | undefined): problem is SetupProblem {
  return problem !== undefined && problem.kind !== 'timeout' && problem.kind !== 'partial_list';
}

/** The guard's record of set-up problems: logs them and keeps what `ready()` reports. */
export interface SetupProblems {
  /** Logs `problem` (the first of its kind, then at most once a minute); mismatches only while no token has verified. */
  report(problem: SetupProblem): void;
  /** A token verified: issuer/audience mismatches are a client's foreign token from now on, not a set-up mistake. */
  verified(): void;
  /** The guard closed: a warm-up cut short by it is not a problem to log. */
  close(): void;
  /** True once a token has verified since start. */
  readonly anyVerified: boolean;
  /** Issuer/audience mismatches seen while no token has verified yet (`ready()` rejects with them too). */
  claimProblems(): SetupProblem[];
}

/** The record of one guard, logging through `logger` (nothing when `false`). */
export function createSetupProblems(logger: { warn(message: string): void } | false, clock: Clock): SetupProblems {
  const throttles = new Map<SetupProblemKind, () => boolean>();
  let anyVerified = false;
  const claims = new Map<SetupProblemKind, SetupProblem>();
  let closed = false;
  return {
    report(problem) {
      if (closed) return;
      if (problem.kind === 'issuer_mismatch' || problem.kind === 'audience_mismatch') {
        // Once a token verified, the configuration is right: a foreign token is one client's business.
        if (anyVerified) return;
        claims.set(problem.kind, problem);
      }
      if (logger === false) return;
      let allowed = throttles.get(problem.kind);
      if (allowed === undefined) {
        allowed = throttle(clock, WARNING_INTERVAL_MS);
        throttles.set(problem.kind, allowed);
      }
      if (!allowed()) return;
      logger.warn(`genauth-guard: set-up problem: ${problem.cause}; check option "${problem.option}". Requests are refused until this is fixed.`);
    },
    verified() {
      anyVerified = true;
      claims.clear();
    },
    claimProblems: () => [...claims.values()],
    close() {
      closed = true;
    },
    get anyVerified() {
      return anyVerified;
    },
  };
}
