import type { TargetType } from '../types.js';
import { DEFAULT_NAMESPACE, targetKey } from './common.js';

/** The tenant's principals (users, roles, groups, departments) and who belongs to what. */
export function createMembershipStore() {
  const targets = new Set<string>(); // known principals (target keys; roles are pool-wide here for lookups)
  const roles = new Map<string, Map<string, Set<string>>>(); // userId -> namespace -> role codes
  const groups = new Map<string, Set<string>>(); // userId -> group codes
  const departments = new Map<string, Set<string>>(); // userId -> department ids

  const know = (type: TargetType, id: string) => void targets.add(targetKey(type, id));

  function member(map: Map<string, Set<string>>, userId: string, code: string): void {
    let set = map.get(userId);
    if (!set) map.set(userId, (set = new Set()));
    set.add(code);
  }

  return {
    know,

    /** True when the principal (a target key) is known. */
    knows: (key: string) => targets.has(key),

    /** The target keys a user inherits grants from in a namespace: roles, groups, departments. */
    inherited(userId: string, namespace: string): string[] {
      const keys: string[] = [];
      for (const role of roles.get(userId)?.get(namespace) ?? []) keys.push(targetKey('ROLE', role));
      for (const group of groups.get(userId) ?? []) keys.push(targetKey('GROUP', group));
      for (const department of departments.get(userId) ?? []) keys.push(targetKey('DEPARTMENT', department));
      return keys;
    },

    addUser: (userId: string) => know('USER', userId),

    assignRole(userId: string, roleCode: string, namespace = DEFAULT_NAMESPACE): void {
      know('USER', userId);
      know('ROLE', roleCode);
      let byNamespace = roles.get(userId);
      if (!byNamespace) roles.set(userId, (byNamespace = new Map()));
      let codes = byNamespace.get(namespace);
      if (!codes) byNamespace.set(namespace, (codes = new Set()));
      codes.add(roleCode);
    },

    addToGroup(userId: string, groupCode: string): void {
      know('USER', userId);
      know('GROUP', groupCode);
      member(groups, userId, groupCode);
    },

    addToDepartment(userId: string, departmentId: string): void {
      know('USER', userId);
      know('DEPARTMENT', departmentId);
      member(departments, userId, departmentId);
    },

    /** Forget every principal and membership. */
    clear(): void {
      targets.clear();
      roles.clear();
      groups.clear();
      departments.clear();
    },
  };
}

/** The tenant's principals and memberships. */
export type MembershipStore = ReturnType<typeof createMembershipStore>;
