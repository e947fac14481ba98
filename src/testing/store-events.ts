/**
 * The tenant store, announcing its changes: every write that GenAuth would announce by webhook emits
 * the event the protocol notes name (GENAUTH-PROTOCOL 5.1), with the payload fields they list; where
 * they list none, a minimal one documented in types.ts. Both the seeding helpers and the HTTP API
 * write through this store, so both send webhooks. A change that fails emits nothing.
 */
import { DEFAULT_NAMESPACE, isNonEmptyString } from './store-input.js';
import type { TenantStore } from './store.js';
import type { AuthorizeItem, GrantInput, ResourceDefinition } from './types.js';

/** Where the events go. */
export type Emit = (eventName: string, data: Record<string, unknown>) => void;

/** A user as the `user:*` events carry it (GenAuth's user object, the fields the emulator knows). */
function userObject(userId: string, userPoolId: string, status: string): Record<string, unknown> {
  return { id: userId, userId, userPoolId, status };
}

/** The user-lifecycle writes the emulator adds: each emits its `user:*` event. */
export interface UserLifecycle {
  blockUser(userId: string): void;
  unblockUser(userId: string): void;
  archiveUser(userId: string): void;
  deleteUser(userId: string): void;
}

/** Wraps a store so that its writes emit webhook events; also returns the user-lifecycle writes. */
export function announcingStore(store: TenantStore, emit: Emit, userPoolId: string): TenantStore & UserLifecycle {
  const grantEvent = (eventName: string, codes: string[], targetType: string, ids: string[], namespace: string): void =>
    emit(eventName, { policyCodes: codes, targetType, targetIdentifiers: ids, userPoolId, namespace });

  /** A replace of a user's direct grants: a revoke of what was there, an add of what is now. */
  function replaced(userId: string, namespace: string, before: string[], after: string[]): void {
    if (before.length > 0) grantEvent('permission:revoke', before, 'USER', [userId], namespace);
    if (after.length > 0) grantEvent('permission:add', after, 'USER', [userId], namespace);
  }

  const codesOf = (input: readonly GrantInput[]): string[] => [...new Set(input.map((grant) => grant.resourceCode))];
  const user = (userId: string, status: string) => userObject(userId, userPoolId, status);

  return {
    ...store,
    // A tenant's grants announce the same events as the pool's (whether GenAuth's name the tenant is not documented).
    putUserGrants(userId: string, input: GrantInput[], namespace = DEFAULT_NAMESPACE, replace = true, tenant?: string): void {
      const before = replace ? store.directCodes(userId, namespace, tenant) : [];
      store.putUserGrants(userId, input, namespace, replace, tenant);
      replaced(userId, namespace, before, codesOf(input));
    },
    putRawUserGrants(userId: string, entries: readonly unknown[], namespace = DEFAULT_NAMESPACE, tenant?: string): void {
      const before = store.directCodes(userId, namespace, tenant);
      store.putRawUserGrants(userId, entries, namespace, tenant);
      replaced(userId, namespace, before, store.directCodes(userId, namespace, tenant));
    },
    authorizeResources(list: unknown, namespace = DEFAULT_NAMESPACE): void {
      store.authorizeResources(list, namespace);
      for (const item of list as AuthorizeItem[]) {
        grantEvent('permission:add', [...new Set(item.resources.map((resource) => resource.code))], item.targetType, [...item.targetIdentifiers], namespace);
      }
    },
    addUser(userId: string, tenant?: string): void {
      const known = store.hasUser(userId);
      store.addUser(userId, tenant);
      if (!known) emit('user:created', user(userId, 'Activated'));
    },
    assignRole(userId: string, roleCode: string, namespace = DEFAULT_NAMESPACE): void {
      store.assignRole(userId, roleCode, namespace);
      emit('role:assigned', { userIds: [userId], groupIds: [], nodeIds: [] });
    },
    addToGroup(userId: string, groupCode: string): void {
      store.addToGroup(userId, groupCode);
      emit('group:member-added', { group: { code: groupCode }, users: [user(userId, 'Activated')] });
    },
    addToDepartment(userId: string, departmentId: string): void {
      store.addToDepartment(userId, departmentId);
      emit('organization:member-added', { node: { id: departmentId }, user: user(userId, 'Activated') });
    },
    createNamespace(code: unknown): { code: string } {
      const created = store.createNamespace(code);
      emit('privilege-namespace:created', { namespace: { code: created.code } });
      return created;
    },
    createResource(input: unknown): ResourceDefinition {
      const definition = store.createResource(input);
      emit('resource:created', { resource: definition, namespace: definition.namespace ?? DEFAULT_NAMESPACE });
      return definition;
    },
    blockUser: (userId) => emit('user:blocked', { user: user(checked(userId, 'blockUser'), 'Suspended') }),
    unblockUser: (userId) => emit('user:unblocked', { user: user(checked(userId, 'unblockUser'), 'Activated') }),
    archiveUser: (userId) => emit('user:archived', { user: user(checked(userId, 'archiveUser'), 'Archived') }),
    deleteUser(userId) {
      store.deleteUser(checked(userId, 'deleteUser'));
      emit('user:deleted', { users: [user(userId, 'Deleted')] });
    },
  };
}

function checked(userId: unknown, method: string): string {
  if (!isNonEmptyString(userId)) throw new TypeError(`emulator: ${method}() needs a non-empty user id`);
  return userId;
}
