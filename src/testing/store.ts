import { createGrantStore } from './tenant/grants.js';
import { createMembershipStore } from './tenant/memberships.js';
import { createResourceStore } from './tenant/resources.js';
import { DEFAULT_NAMESPACE } from './tenant/common.js';

/**
 * The emulated tenant: namespaces, resource definitions, grants per principal (user, role, group,
 * department) and memberships. Pure data, no HTTP: routes and code helpers both write through it.
 * Each part lives in src/testing/tenant/; this joins them into the one object the emulator uses.
 */

export { TenantError } from './tenant/common.js';
export type { TargetQuery } from './tenant/grants.js';

/** Creates an empty tenant with the 'default' namespace. */
export function createTenantStore() {
  const resources = createResourceStore();
  const members = createMembershipStore();
  const grants = createGrantStore(members, resources);

  function clearGrants(): void {
    grants.clear();
    members.clear();
  }

  return {
    putUserGrants: grants.putUserGrants,
    putRawUserGrants: grants.putRawUserGrants,
    addUser: members.addUser,
    assignRole(userId: string, roleCode: string, namespace = DEFAULT_NAMESPACE): void {
      resources.addNamespace(namespace);
      members.assignRole(userId, roleCode, namespace);
    },
    addToGroup: members.addToGroup,
    addToDepartment: members.addToDepartment,
    createNamespace: resources.createNamespace,
    createResource: resources.createResource,
    authorizeResources: grants.authorizeResources,
    userResources: grants.userResources,
    targetResources: grants.targetResources,
    listResources: resources.listResources,

    /** Forget grants, memberships and known principals. */
    clearGrants,

    /** Back to an empty tenant. */
    reset(): void {
      clearGrants();
      resources.reset();
    },
  };
}

/** The emulated tenant. */
export type TenantStore = ReturnType<typeof createTenantStore>;
