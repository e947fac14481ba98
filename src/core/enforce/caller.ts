/**
 * Who the caller is and which grants they hold, from the caches when it can be: the one place that
 * knows a verified token keeps a link to its user's cached grants. A repeated request then skips the
 * grant cache's lookup, and the whole check stays synchronous.
 */
import type { PermissionCache } from '../../cache/permission-cache.js';
import { GuardInternalError, PermissionsUnavailableError } from '../../errors.js';
import type { ResolvedOptions } from '../../options/resolved.js';
import type { ApiDecision } from '../../policy/api-match.js';
import type { Decision } from '../../policy/decide.js';
import type { RequestLike } from '../../request.js';
import { bearerToken, plainBearerToken, readAuthorization } from '../../token/bearer.js';
import { hookToken, layerIdentity } from '../../token/hooks.js';
import { isRevoked, type RevocationStore } from '../../token/revocations.js';
import type { Identity, TokenVerifier, VerifiedToken } from '../../token/verifier.js';
import type { CachedUserGrants, UserGrants, UserGrantsLink } from '../grant-store.js';
import type { IdentityLookups } from '../identity-lookups.js';
import { revokedDecision, type Revoked } from '../outcome.js';
import type { MissedRevocations } from '../shared-revocations.js';
import { closedError, stillOpenStep, type Lifecycle } from '../lifecycle.js';

/** A token verified before: the verifier's record, whose link slot this module keeps. */
export type KnownToken = VerifiedToken<UserGrantsLink>;

/** Every LINK_REFRESH-th use of a link looks the grants up again, so lru-cache still sees them used. */
const LINK_REFRESH = 16;

/** The caller's side of one request, for route and API-mode enforcement. */
export interface Callers {
  /**
   * The record of the request's token when it was verified before, else the token to verify. A header
   * that is exactly `Bearer <token>` is looked up without the full syntax check (its token passed it
   * when it was verified); every other header goes through it. Throws (400/401) for a missing, repeated
   * or malformed header. With `getToken`, its token instead of the header's; with `identity.resolve`,
   * a record of the identity it returned, never a token (a promise of it on the user's first request
   * with a shared revocation store: see identity-lookups.ts). `native` is what the hooks receive (the
   * framework's request), by default `request`. Once the guard is closed, throws its 503 first.
   */
  present(request: RequestLike, native?: unknown): KnownToken | string | Promise<KnownToken>;
  /** The identity, without a promise when the synchronous HS* check accepts the token; throws or rejects 401/503. */
  verify(token: string): Identity | Promise<Identity>;
  /**
   * The user's fresh cached grants, no I/O: through the known token's link while it holds, else from
   * the cache (and the link is set again). `known` must be the record `present` returned for this user.
   */
  cachedGrants(userId: string, known: KnownToken | undefined): CachedUserGrants | undefined;
  /**
   * Authentication alone: the identity, without a promise when the token needs no jose (nor, with
   * `identity.resolve`, a first read of the user's revocation record). Throws or rejects 400/401/503.
   */
  identify(request: RequestLike, native?: unknown): Identity | Promise<Identity>;
  /** Taken when a request starts to wait on its decision: the `since` that `unlessRevoked` is given. */
  mark(): number;
  /**
   * The decision, or its refusal as `revoked` when the identity's user was revoked after it was
   * accepted. For a request that waited (on GenAuth, on the conditions context) since `since` (a
   * `mark`): it is decided after the revocation, so it counts as made after it, as the user's next
   * request does; the enforcer answers that refusal with the 401 `revoked`, and it is what the
   * observers are told. One property read while none is revoked and, with a shared store, while the
   * subscription stayed live; else an allowed decision has the user's record read from Redis first (a
   * record published meanwhile may never have arrived), and a read Redis does not answer after the
   * subscription came back rejects with the 503 ERR_PERMISSIONS_UNAVAILABLE. A refusal reads nothing
   * (it is answered 403 on the local copy's word: refusing needs no record). Once the guard is closed,
   * throws its 503 instead (rejects with it when it closed while the record was read): a request still
   * being decided when it closed is not judged either.
   */
  unlessRevoked<T extends Decision | ApiDecision>(identity: Identity, decision: T, since: number): T | Revoked<T> | Promise<T | Revoked<T>>;
}

function layerRecord(identity: Identity): KnownToken {
  return { token: '', identity, link: undefined, linkUses: 0 };
}

function identityOf(known: KnownToken): Identity {
  return known.identity;
}

/** What the caller lookups read of the options: the realm, and where the caller comes from. */
export type CallerSettings = Pick<ResolvedOptions, 'realm' | 'getToken' | 'identity' | 'retryAfter'>;

/**
 * Creates the caller lookups of one guard, over its verifier and its grant cache. `lookups`: with
 * `identity.resolve` and a shared revocation store, the users whose record this instance has read.
 * `missed`: with a shared store, whether a waiting request may have missed a record.
 */
export function createCallers(
  verifier: TokenVerifier<UserGrantsLink> | undefined,
  cache: PermissionCache<UserGrants>,
  settings: CallerSettings,
  revocations: RevocationStore,
  lifecycle: Lifecycle,
  lookups?: IdentityLookups,
  missed?: MissedRevocations,
): Callers {
  const { realm, getToken, retryAfter } = settings;
  const { resolve, maxLength } = settings.identity;

  // Each way of presenting refuses first once the guard is closed (a closed guard judges nothing, not
  // even the token): the check is in each rather than in a wrapper, so the hot path makes no extra call.

  function presentHeader(request: RequestLike): KnownToken | string {
    if (lifecycle.closed) throw closedError(retryAfter);
    const header = readAuthorization(request);
    const plain = plainBearerToken(header);
    return (plain === undefined ? undefined : verifier?.peekRecord(plain)) ?? bearerToken(header, realm);
  }

  /** The hook's token is the one source: the header is not read, even when it returns none. */
  function presentHookToken(request: RequestLike, native: unknown = request): KnownToken | string {
    if (lifecycle.closed) throw closedError(retryAfter);
    const token = hookToken(getToken!(native), realm);
    return verifier?.peekRecord(token) ?? token;
  }

  /**
   * Another layer's identity, checked on every request (it is not a token this guard could cache). On
   * the user's first request with a shared store, checked again once their record is read from Redis:
   * this instance may have started after the revocation.
   */
  function presentLayerIdentity(request: RequestLike, native: unknown = request): KnownToken | Promise<KnownToken> {
    if (lifecycle.closed) throw closedError(retryAfter);
    const value = resolve!(native);
    const identity = layerIdentity(value, maxLength, realm, revocations);
    const reading = lookups?.read(identity.userId);
    if (reading === undefined) return layerRecord(identity);
    return reading.then(() => layerRecord(layerIdentity(value, maxLength, realm, revocations)));
  }

  const present = resolve !== undefined ? presentLayerIdentity : getToken !== undefined ? presentHookToken : presentHeader;

  function verify(token: string): Identity | Promise<Identity> {
    // Unreachable: without a verifier (identity.resolve), present never returns a token.
    if (verifier === undefined) throw new GuardInternalError();
    return verifier.verifyNow(token);
  }

  function cachedGrants(userId: string, known: KnownToken | undefined): CachedUserGrants | undefined {
    if (known === undefined) return cache.peek(userId);
    const link = known.link;
    const linked = link !== undefined && ++known.linkUses < LINK_REFRESH ? cache.stillFresh(link) : undefined;
    if (linked !== undefined) return linked;
    // Any live, fresh entry of the user is the one the cache holds for them: link it.
    const cached = cache.peek(userId);
    known.link = cached?.link;
    known.linkUses = 0;
    return cached;
  }

  /** A caller identified after a wait (jose, a revocation read): refused when the guard closed meanwhile. */
  const stillOpen = stillOpenStep(lifecycle, retryAfter);

  function identify(request: RequestLike, native?: unknown): Identity | Promise<Identity> {
    const found = present(request, native);
    if (typeof found !== 'string') return found instanceof Promise ? found.then(identityOf).then(stillOpen) : found.identity;
    const identity = verify(found);
    return identity instanceof Promise ? identity.then(stillOpen) : identity;
  }

  function verdict<T extends Decision | ApiDecision>(identity: Identity, decision: T): T | Revoked<T> {
    return revocations.active && isRevoked(revocations, identity) ? revokedDecision(decision) : decision;
  }

  function unlessRevoked<T extends Decision | ApiDecision>(identity: Identity, decision: T, since: number): T | Revoked<T> | Promise<T | Revoked<T>> {
    // Closed while the decision waited (on GenAuth, on conditions.context): a closed guard decides nothing.
    if (lifecycle.closed) throw closedError(retryAfter);
    const now = verdict(identity, decision);
    // A refusal needs no record: refusing is already the safe answer, and a read Redis does not answer
    // must not turn it into a 503. An allowed decision is the one a missed revocation could overturn.
    const reading = now === decision && decision.allowed ? missed?.recheck(identity.userId, since) : undefined;
    if (reading === undefined) return now;
    return reading.then((known) => {
      // Closed while the record was read: a closed guard decides nothing, whatever Redis answered.
      if (lifecycle.closed) throw closedError(retryAfter);
      // Fail closed: the resync promised no revoked user stays allowed, and this one cannot be told.
      if (!known) throw new PermissionsUnavailableError(retryAfter);
      return verdict(identity, decision);
    });
  }

  const mark = missed === undefined ? () => 0 : missed.mark;

  return { present, verify: verifier === undefined ? verify : verifier.verifyNow, cachedGrants, identify, mark, unlessRevoked };
}
