/** Resolves the `jwt` group: how tokens are verified (key source, claims, JWKS knobs, token cache). */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { fail, httpUrl, nonEmptyString, positiveInteger, positiveNumber, refuseUndefinedKey, strictObject, timerDuration } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedJwtOptions } from './resolved.js';
import type { JwksOptions, JwtOptions } from './types.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../token/bounded-body.js';
import { fetchRefusesPort, keySetTransportAllowed } from '../token/key-set-url.js';

const ALGORITHMS = new Set<string>([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);
/**
 * Most tokens the verified-token cache may hold. The cache and its admission filter allocate arrays of
 * `max` slots when the guard is built (about 50 MB at this bound, before any token), so a mistyped huge
 * value would take gigabytes or crash the process. A million distinct live tokens per instance is far
 * past what one guard sees within `tokenCache.maxAge`.
 */
const MAX_TOKEN_CACHE = 1_000_000;
/**
 * The most clock skew forgiven on `exp`, `nbf` and `iat`, in seconds (5 minutes, the usual largest
 * allowance). A larger tolerance (ms given where seconds are meant) quietly turned the expiry check off.
 */
const MAX_CLOCK_TOLERANCE = 300;
/**
 * The largest `jwt.jwks.maxResponseBytes`: the body is held as text and parsed twice (by the guard and
 * by jose), so a bound much past this bounds nothing a process can afford. A key set is a few KiB.
 */
const MAX_JWKS_RESPONSE_BYTES = 64 * 1024 * 1024;
/** RFC 7518 section 3.2: an HS* key is at least as long as the hash output. */
const HMAC_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** The armor of a PEM block (a key of any kind, a certificate). */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;
/**
 * An OpenSSH public key line (RFC 4253 section 6.6, authorized_keys): a key type, then its base64 blob,
 * which starts with the type name's uint32 length (AAAA). PyJWT refuses these as HMAC keys (CVE-2022-29217).
 */
const OPENSSH_KEY = /^(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(?:-cert-v01@openssh\.com)?\s+AAAA[A-Za-z0-9+/]+=*(?:\s|$)/;

/** Whether `der` is a public key (SPKI or PKCS#1) or an X.509 certificate, which carries one. */
function isPublicDer(der: Buffer): boolean {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      createPublicKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // Not a public key of this form.
    }
  }
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses a URL the guard fetches (`what`, at `path`) on a port fetch refuses: it would be rejected on
 * every request, a 503 told as "could not be used (TypeError)". The port is not echoed (an option's
 * value never is).
 */
function checkFetchablePort(url: string, path: string, what: string): void {
  if (fetchRefusesPort(new URL(url))) {
    fail(path, `is on a port that fetch refuses (a "bad port" of the WHATWG Fetch standard, such as 22, 25, 6000 or 6667): ${what} could never be fetched and every request would be a 503; serve it on another port`);
  }
}

/** A JWK: an object whose `kty` is a string. */
function isJwk(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';
}

/** A JWK, or a JWK Set (`keys` a list holding one): what a `jwks_uri` serves. */
function isJwkOrSet(value: unknown): boolean {
  const keys = (value as { keys?: unknown } | null)?.keys;
  return isJwk(value) || (Array.isArray(keys) && keys.some(isJwk));
}

/**
 * Whether a secret's text is a key: a public key's or a certificate's DER bytes (a key file read whole),
 * a PEM block, an OpenSSH public key line, the base64 (or base64url) of a public key's DER (SPKI or
 * PKCS#1) or of a certificate's (a JWK's `x5c` member) without the armor, or the JSON of a JWK or JWK
 * Set (the issuer's `jwks_uri` body, which anyone can fetch byte for byte). A public key used as an
 * HMAC secret lets anyone who has it sign tokens.
 */
function isKeyText(text: string): boolean {
  // A key file read whole: its bytes (a Uint8Array secret is read here as Latin-1, one char per byte).
  if (isPublicDer(Buffer.from(text, 'latin1'))) return true;
  if (PEM_BLOCK.test(text)) return true;
  const trimmed = text.trim();
  if (OPENSSH_KEY.test(trimmed)) return true;
  // Buffer reads base64 and base64url alike. Anything else is a secret that happens to be base64.
  if (/^[A-Za-z0-9+/=_\s-]+$/.test(trimmed) && isPublicDer(Buffer.from(trimmed, 'base64'))) return true;
  if (!trimmed.startsWith('{')) return false;
  try {
    return isJwkOrSet(JSON.parse(trimmed));
  } catch {
    return false;
  }
}

/** A secret long enough for every HS algorithm it serves (RFC 7518 section 3.2), and no key. */
function checkSecret(secret: unknown, algorithms: readonly string[]): void {
  let bytes: number;
  if (typeof secret === 'string') bytes = Buffer.byteLength(secret);
  else if (secret instanceof Uint8Array) bytes = secret.byteLength;
  else fail('jwt.secret', 'must be a string or a Uint8Array');
  if (bytes === 0) fail('jwt.secret', 'must not be empty');
  if (isKeyText(typeof secret === 'string' ? secret : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('latin1'))) {
    fail('jwt.secret', 'is a key (PEM, base64 DER, JWK or JWK Set), not a shared secret: HS* with a public key lets anyone sign tokens; for RS*, PS* or ES* tokens use jwt.publicKey, jwt.jwksUri or jwt.discovery');
  }
  // The strongest algorithm sets the bound; the secret's own length is not echoed (a hint about it).
  const strongest = [...algorithms].sort((a, b) => (HMAC_KEY_BYTES[b] ?? 0) - (HMAC_KEY_BYTES[a] ?? 0))[0] ?? '';
  const needed = HMAC_KEY_BYTES[strongest] ?? 0;
  if (bytes < needed) fail('jwt.secret', `must be at least ${needed} bytes to be used with ${strongest} (RFC 7518 section 3.2)`);
}

function maxResponseBytes(value: unknown): number {
  const bytes = positiveInteger(value, 'jwt.jwks.maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES);
  if (bytes > MAX_JWKS_RESPONSE_BYTES) fail('jwt.jwks.maxResponseBytes', `must be at most ${MAX_JWKS_RESPONSE_BYTES} (64 MiB; a key set is a few KiB)`);
  return bytes;
}

function resolveJwks(value: unknown): JwksOptions | undefined {
  if (value === undefined) return undefined;
  const input = strictObject(value, OPTION_KEYS.jwks, 'jwt.jwks');
  return Object.freeze({
    cooldownDuration: positiveNumber(input.cooldownDuration, 'jwt.jwks.cooldownDuration', 30_000, true),
    timeoutDuration: timerDuration(input.timeoutDuration, 'jwt.jwks.timeoutDuration', 3_000),
    cacheMaxAge: positiveNumber(input.cacheMaxAge, 'jwt.jwks.cacheMaxAge', 600_000),
    maxResponseBytes: maxResponseBytes(input.maxResponseBytes),
  });
}

/** Names quoted back in a message: the supported ones in any case, and `none`. Nothing else is quoted. */
const QUOTABLE = new Set([...ALGORITHMS].map((name) => name.toLowerCase()).concat('none'));

/**
 * Throws for an unsupported algorithm at `index`: a known one in another case is suggested (`rs256`),
 * otherwise the supported names are listed. The value is quoted only when it is an algorithm name (or
 * `none`): anything else may be a secret read into the wrong key, so only its place is named.
 */
function unsupportedAlgorithm(alg: unknown, index: number): never {
  const quotable = typeof alg === 'string' && QUOTABLE.has(alg.toLowerCase());
  if (!quotable) fail(`jwt.algorithms[${index}]`, `is not a supported algorithm (supported: ${[...ALGORITHMS].join(', ')})`);
  const said = `has an unsupported algorithm "${alg}"`;
  const known = [...ALGORITHMS].find((name) => name.toLowerCase() === alg.toLowerCase());
  fail('jwt.algorithms', known === undefined ? `${said} (supported: ${[...ALGORITHMS].join(', ')})` : `${said}; did you mean "${known}"?`);
}

/**
 * Why the key sources given are not exactly one: none (a key whose value is `undefined` is not set, as
 * an unset environment variable read into it gives), or the ones set together.
 */
function keySourceProblem(sources: readonly string[]): string {
  if (sources.length === 0) {
    return "none is set (a key whose value is undefined, as an unset environment variable gives, counts as not set); for GenAuth's access tokens set jwt.jwksUri to https://<app-domain>/oidc/.well-known/jwks.json, or jwt.discovery: true with jwt.issuer";
  }
  const named = `${sources.slice(0, -1).join(', ')} and ${sources[sources.length - 1]}`;
  return `${named} are ${sources.length === 2 ? 'both' : 'all'} set; keep one`;
}

/**
 * The claim checks whose absence turns them off, refused when present with the value `undefined` (an
 * unset environment variable read into them): see {@link refuseUndefinedKey}. With `discovery`, the
 * issuer cannot be left out either.
 */
function refuseUndefinedChecks(input: Record<string, unknown>): void {
  refuseUndefinedKey(input, 'audience', 'jwt.audience', "the check of the tokens' aud (a token minted for another application would pass)", "set it to the application's App ID", 'check no audience');
  if (input.discovery !== undefined) {
    refuseUndefinedKey(input, 'issuer', 'jwt.issuer', "the check of the tokens' iss", 'jwt.discovery reads the key set from the issuer, so set it to https://<app-domain>/oidc');
  } else {
    refuseUndefinedKey(input, 'issuer', 'jwt.issuer', "the check of the tokens' iss", 'set it to https://<app-domain>/oidc', 'check no issuer');
  }
  refuseUndefinedKey(input, 'typ', 'jwt.typ', "the check of the tokens' typ header", "set it to the type expected ('at+jwt' for RFC 9068 access tokens)", 'check no typ');
  refuseUndefinedKey(input, 'requiredClaims', 'jwt.requiredClaims', 'the claims it requires', 'set it to the claim names', 'require no claim beyond exp');
  refuseUndefinedKey(input, 'maxTokenAge', 'jwt.maxTokenAge', "the bound on a token's age", 'set it to the longest age, in seconds', 'bound no age');
}

/** `jwt` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveJwt(value: unknown): ResolvedJwtOptions {
  if (value === undefined) fail('jwt', 'is required');
  const input = strictObject(value, OPTION_KEYS.jwt, 'jwt') as unknown as JwtOptions;
  refuseUndefinedChecks(input as unknown as Record<string, unknown>);
  if (!Array.isArray(input.algorithms) || input.algorithms.length === 0) {
    fail('jwt.algorithms', "must be a non-empty array of JWS algorithms (there is no default): ['RS256'] for GenAuth's access tokens (with jwt.jwksUri or jwt.discovery), ['HS256'] for ID tokens signed with the application secret (with jwt.secret)");
  }
  input.algorithms.forEach((alg, i) => {
    if (!ALGORITHMS.has(alg)) unsupportedAlgorithm(alg, i);
  });
  const sources = (['secret', 'publicKey', 'jwksUri', 'discovery'] as const).filter((k) => input[k] !== undefined);
  if (sources.length !== 1) fail('jwt', `needs exactly one of secret, publicKey, jwksUri, discovery: ${keySourceProblem(sources)}`);
  const symmetric = input.algorithms.filter((a) => a.startsWith('HS'));
  if (input.secret !== undefined) {
    if (symmetric.length !== input.algorithms.length) {
      fail('jwt.algorithms', 'must only hold HS* algorithms with a secret (HS256, HS384, HS512); RS*, PS*, ES* and EdDSA tokens, such as GenAuth\'s RS256 access tokens, are verified with jwt.jwksUri, jwt.discovery or jwt.publicKey instead of jwt.secret');
    }
    checkSecret(input.secret, input.algorithms);
  } else if (symmetric.length > 0) {
    fail('jwt.algorithms', `must not hold HS* algorithms unless a secret is configured: HS* tokens are verified with jwt.secret (the application secret); with jwt.${sources[0]}, list the algorithm of the issuer's keys (RS256 for GenAuth's access tokens)`);
  }
  if (input.jwksUri !== undefined) {
    httpUrl(input.jwksUri, 'jwt.jwksUri');
    checkFetchablePort(input.jwksUri, 'jwt.jwksUri', 'the key set');
  }
  if (input.discovery !== undefined) {
    if (input.discovery !== true) fail('jwt.discovery', 'must be true');
    httpUrl(input.issuer, 'jwt.issuer');
    checkFetchablePort(input.issuer as string, 'jwt.issuer', 'the discovery document (jwt.issuer + /.well-known/openid-configuration)');
  }
  if (input.issuer !== undefined) nonEmptyString(input.issuer, 'jwt.issuer');
  if (input.jwksUri !== undefined && !keySetTransportAllowed(new URL(input.jwksUri), input.issuer, true)) {
    // The URL is not echoed (an option's value never is).
    const against = input.issuer === undefined ? 'there is no jwt.issuer' : 'jwt.issuer is not an http URL';
    fail('jwt.jwksUri', `is plain http while ${URL.canParse(input.issuer ?? '') && new URL(input.issuer as string).protocol === 'https:' ? 'jwt.issuer is https' : against}: whoever can change the key set in transit can sign tokens the guard accepts. Serve it over https, as RFC 8414 and OIDC discovery require of a jwks_uri (plain http is taken only on a loopback host: 127.0.0.0/8, [::1], localhost; or with an http jwt.issuer, for local development)`);
  }
  if (input.audience !== undefined) {
    const list = typeof input.audience === 'string' ? [input.audience] : input.audience;
    if (!Array.isArray(list) || list.length === 0) fail('jwt.audience', 'must be a string or a non-empty array of strings');
    // Index loops, not forEach: a hole (`[, 'x']`) must be refused, not skipped.
    // A single string is named as the option itself, not as an entry of a list the user never wrote.
    if (typeof input.audience === 'string') nonEmptyString(input.audience, 'jwt.audience');
    else for (let i = 0; i < list.length; i++) nonEmptyString(list[i], `jwt.audience[${i}]`);
  }
  if (input.typ !== undefined) nonEmptyString(input.typ, 'jwt.typ');
  if (input.requiredClaims !== undefined) {
    if (!Array.isArray(input.requiredClaims)) fail('jwt.requiredClaims', 'must be an array of claim names');
    for (let i = 0; i < input.requiredClaims.length; i++) nonEmptyString(input.requiredClaims[i], `jwt.requiredClaims[${i}]`);
  }
  const tokenCache = input.tokenCache === undefined ? {} : strictObject(input.tokenCache, OPTION_KEYS.tokenCache, 'jwt.tokenCache');
  const jwks = resolveJwks(input.jwks);
  const clockTolerance = positiveNumber(input.clockTolerance, 'jwt.clockTolerance', 5, true);
  if (clockTolerance > MAX_CLOCK_TOLERANCE) fail('jwt.clockTolerance', `must be at most ${MAX_CLOCK_TOLERANCE} (seconds of clock skew; more would take expired tokens)`);
  const tokenCacheMax = Math.floor(positiveNumber(tokenCache.max, 'jwt.tokenCache.max', 10_000, true));
  if (tokenCacheMax > MAX_TOKEN_CACHE) fail('jwt.tokenCache.max', `must be at most ${MAX_TOKEN_CACHE} (tokens; 0 turns the cache off)`);
  return Object.freeze({
    ...input,
    ...(jwks === undefined ? {} : { jwks }),
    clockTolerance,
    ...(input.maxTokenAge === undefined ? {} : { maxTokenAge: positiveNumber(input.maxTokenAge, 'jwt.maxTokenAge', 0) }),
    tokenCache: Object.freeze({
      max: tokenCacheMax,
      maxAge: positiveNumber(tokenCache.maxAge, 'jwt.tokenCache.maxAge', 300_000),
    }),
  });
}
