/**
 * The names of the shared tier's keys and channel. Every name carries the prefix and the scope (user
 * pool, tenant and its header, namespace, id type, resource type): two guards whose GenAuth answers may differ
 * never read each other's entries. A user's keys share one Redis Cluster hash slot (the `{...}` tag),
 * so one script reads or writes both atomically.
 */
import { createHash } from 'node:crypto';

/** What decides a grants answer besides the user: the query dimensions of one guard. */
export interface TierScope {
  userPoolId: string;
  tenantId: string | undefined;
  /**
   * The header `tenantId` is sent in (part of the scope only with a tenant): GenAuth answers the tenant's
   * grants only if it reads that header, the pool's if it ignores it, so two guards of one tenant id
   * sending it in two headers may be answered two lists.
   */
  tenantHeader?: string | undefined;
  namespace: string;
  userIdType: string;
  resourceType: string | undefined;
}

/** A user's keys: the grants entry, its invalidation mark, and the user's revocation record. */
export interface UserKeys {
  /** The token of the user inside the keys (`=id`, or `#hash` when long or unusual). */
  readonly user: string;
  readonly entry: string;
  readonly mark: string;
  /** "Tokens issued at or before this time (ms) are revoked" (see scripts.ts REVOKE_USER). */
  readonly revoked: string;
}

/** The names of one scope. */
export interface TierKeys {
  /** The scope's token, also written into every entry (an entry of another scope is foreign). */
  readonly scope: string;
  /** The mark every entry of the scope was loaded under; replaced by invalidateAll. */
  readonly globalMark: string;
  /** The Pub/Sub channel of the scope's invalidations. */
  readonly channel: string;
  /**
   * A random token set once (no expiry) and never replaced: a new one means Redis lost its keys (a
   * restart without persistence), and with them the revocation records (see scripts.ts RESTORE_REVOKED).
   */
  readonly epoch: string;
  user(userId: string): UserKeys;
}

const READABLE_PART = /^[A-Za-z0-9_.-]*$/;
const READABLE_USER = /^[A-Za-z0-9_.@+-]{1,64}$/;
const READABLE_SCOPE_MAX = 96;

const hash = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The scope as text: readable when short and plain, else `#` and a SHA-256 (no readable scope starts with `#`). */
export function scopeToken(scope: TierScope): string {
  const parts = [scope.userPoolId, scope.tenantId ?? '', scope.namespace, scope.userIdType, scope.resourceType ?? '*'];
  // A sixth part only with a tenant: the scopes of guards without one (and so their keys) are as they were.
  if (scope.tenantId !== undefined) parts.push((scope.tenantHeader ?? '').toLowerCase());
  const named = [...parts.slice(0, 4), ...parts.slice(5)];
  const readable = named.every((part) => READABLE_PART.test(part)) ? parts.join(':') : undefined;
  return readable !== undefined && readable.length <= READABLE_SCOPE_MAX ? readable : `#${hash(JSON.stringify(parts))}`;
}

/** A user id as it appears in a key: `=id` when short and plain, else `#` and its SHA-256. */
export function userToken(userId: string): string {
  return READABLE_USER.test(userId) ? `=${userId}` : `#${hash(userId)}`;
}

export function tierKeys(prefix: string, scope: TierScope): TierKeys {
  const token = scopeToken(scope);
  return {
    scope: token,
    globalMark: `${prefix}{${token}}:all`,
    channel: `${prefix}${token}:invalidate`,
    epoch: `${prefix}{${token}}:epoch`,
    user(userId) {
      const user = userToken(userId);
      const slot = `${prefix}{${token}|${user}}`;
      return { user, entry: `${slot}:grants`, mark: `${slot}:mark`, revoked: `${slot}:revoked` };
    },
  };
}
