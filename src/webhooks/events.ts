/**
 * GenAuth's webhook events and what each means for the guard's caches (GENAUTH-PROTOCOL.md 5.1).
 * Pure: an event name and its `data` in, the invalidations out. The event payloads name direct
 * targets only (a role, a group, a department), and inheritance reaches further, so everything but a
 * grant made to users themselves flushes the namespace; a guard serves one namespace, so that is all
 * of its cache.
 */
import type { UserIdType } from '../wire.js';

/** One thing a webhook makes the guard do. */
export type WebhookAction =
  | { readonly kind: 'invalidateAll' }
  | { readonly kind: 'invalidateUser'; readonly userId: string }
  | { readonly kind: 'revokeUser'; readonly userId: string };

/** `grants`: users or the namespace, by the target; `namespace`: the whole namespace; `revoke`: the user's tokens. */
type Rule = 'grants' | 'namespace' | 'revoke';

/** Every event the guard acts on, in the SDK's spelling and the docs' where they differ. */
export const WEBHOOK_EVENTS: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['permission:add', 'grants'],
  ['permission:revoke', 'grants'],
  ...(['resource:created', 'resource:updated', 'resource:delete'] as const).map((name) => [name, 'namespace'] as const),
  ...([
    'role:created', 'role:add', 'role:updated', 'role:deleted', 'role:delete', 'role:disable', 'role:assigned',
    'role:unassigned', 'subject:remove',
  ] as const).map((name) => [name, 'namespace'] as const),
  ...(['group:member-added', 'group:member-removed', 'group:deleted'] as const).map((name) => [name, 'namespace'] as const),
  ...([
    'organization:member-added', 'organization:member-removed', 'organization:node-moved', 'organization:node-deleted',
    'organization:tree-updated', 'organization:deleted', 'organization:imported', 'user:organization-node-update',
  ] as const).map((name) => [name, 'namespace'] as const),
  ...(['privilege-namespace:updated', 'privilege-namespace:deleted'] as const).map((name) => [name, 'namespace'] as const),
  ...([
    'data-resource:created', 'data-resource:updated', 'data-resource:deleted', 'data-strategy-permission:add',
    'data-strategy-permission:revoke',
  ] as const).map((name) => [name, 'namespace'] as const),
  ['user:deleted', 'revoke'],
  ['user:blocked', 'revoke'],
  ['user:archived', 'revoke'],
]);

/** What the mapping needs to know about the guard. */
export interface EventScope {
  /** The namespace the guard serves. */
  namespace: string;
  /** What the guard's user ids are (`genauth.userIdType`): which field of a GenAuth user to read. */
  userIdType: UserIdType;
}

/**
 * An event's invalidations: `undefined` for an event the guard does not act on (or one about another
 * namespace), `unidentified` when a user event names no user the guard can identify.
 */
export type EventPlan = { actions: WebhookAction[] } | { unidentified: true } | undefined;

/** More users than this in one grant event: flushing everything is cheaper than one by one. */
const MAX_USER_INVALIDATIONS = 100;

const ALL: WebhookAction = Object.freeze({ kind: 'invalidateAll' });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 1024;

/** The actions of one event, or undefined when the guard ignores it. */
export function planEvent(eventName: string, data: Record<string, unknown>, scope: EventScope): EventPlan {
  const rule = WEBHOOK_EVENTS.get(eventName);
  if (rule === undefined) return undefined;
  if (rule === 'revoke') {
    const ids = userIdsOf(data, scope.userIdType);
    if (ids.length === 0) return { unidentified: true };
    return { actions: ids.map((userId) => ({ kind: 'revokeUser', userId })) };
  }
  if (namesOtherNamespace(data, scope.namespace)) return undefined;
  if (rule === 'grants') {
    const users = grantedUsers(data, scope.userIdType);
    if (users !== undefined && users.length <= MAX_USER_INVALIDATIONS) return { actions: users.map((userId) => ({ kind: 'invalidateUser', userId })) };
  }
  return { actions: [ALL] };
}

/** The namespaces an event names: `namespace` (a code or a namespace object), `namespaces`, a role's or a resource's. */
function namedNamespaces(data: Record<string, unknown>): string[] {
  const codes: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string') codes.push(value);
    else if (isObject(value) && typeof value.code === 'string') codes.push(value.code);
  };
  add(data.namespace);
  if (Array.isArray(data.namespaces)) data.namespaces.forEach(add);
  if (isObject(data.role)) add(data.role.namespace);
  if (isObject(data.resource)) add(data.resource.namespace);
  return codes;
}

/** True only when the event clearly names namespaces and the guard's is not one of them. */
function namesOtherNamespace(data: Record<string, unknown>, ours: string): boolean {
  const named = namedNamespaces(data);
  return named.length > 0 && !named.includes(ours);
}

/**
 * The users a `permission:add`/`revoke` was made to, as the guard's ids; undefined when the target is
 * not users (a role, a group, a department) or the ids are not the guard's kind.
 */
function grantedUsers(data: Record<string, unknown>, userIdType: UserIdType): string[] | undefined {
  if (typeof data.targetType !== 'string' || data.targetType.toUpperCase() !== 'USER') return undefined;
  // `targetIdentifiers` are GenAuth user ids: they are cache keys only when the claim holds those.
  if (userIdType !== 'user_id') return undefined;
  const ids = data.targetIdentifiers;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every(isId)) return undefined;
  return [...new Set(ids)];
}

/** Which field of a GenAuth user object holds the guard's id, for each `userIdType` that has one. */
const USER_FIELDS: Partial<Record<UserIdType, readonly string[]>> = {
  user_id: ['userId', 'id'],
  external_id: ['externalId'],
  phone: ['phone'],
  email: ['email'],
  username: ['username'],
};

/**
 * The guard's ids of the users a `user:*` event is about: `data.user`, `data.users` (objects, or bare
 * GenAuth user ids in custom-database pools), `data.userId`, `data.userIds`. Every id found is
 * revoked: revoking one too many is safe, one too few is not.
 */
function userIdsOf(data: Record<string, unknown>, userIdType: UserIdType): string[] {
  const fields = USER_FIELDS[userIdType] ?? [];
  const ids = new Set<string>();
  const bareIds = userIdType === 'user_id';
  const add = (user: unknown): void => {
    if (isId(user)) {
      if (bareIds) ids.add(user);
    } else if (isObject(user)) {
      for (const field of fields) if (isId(user[field])) ids.add(user[field]);
    }
  };
  add(data.user);
  if (Array.isArray(data.users)) data.users.forEach(add);
  add(data.userId);
  if (Array.isArray(data.userIds)) data.userIds.forEach(add);
  return [...ids];
}
