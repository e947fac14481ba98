import type { AuthorizedResource } from '../wire.js';
import { DEFAULT_NAMESPACE, TARGET_TYPES, TenantError, fill, isNonEmptyString, resourceDefinition, validateItems, type Row } from './store-input.js';
import { createTenantGrants } from './store-tenants.js';
import type { GrantInput, ResourceDefinition, TargetType } from './types.js';

export { TenantError } from './store-input.js';

/** `userResources`' answer for a user of the pool who is not a member of the tenant asked for. */
export const NOT_A_MEMBER: unique symbol = Symbol('not a member of the tenant');

/**
 * The emulated tenant: namespaces, resource definitions, grants per principal (user, role, group,
 * department) and memberships. Pure data, no HTTP: routes and code helpers both write through it.
 */

/** Filters of `get-authorized-resources`. */
export interface TargetQuery {
  targetType: string | undefined;
  targetIdentifier: string | undefined;
  namespace?: string | undefined;
  resourceType?: string | undefined;
  /** Prefixes: `books:*` matches `books:` and anything after; other entries are plain prefixes. */
  resourceList?: string[] | undefined;
  withDenied?: boolean;
}

const targetKey = (type: TargetType, id: string) => `${type}\u0000${id}`;

/** Creates an empty tenant with the 'default' namespace. */
export function createTenantStore() {
  const namespaces = new Set<string>([DEFAULT_NAMESPACE]);
  const resources = new Map<string, Map<string, ResourceDefinition>>(); // namespace -> code -> definition
  const grants = new Map<string, Map<string, Row[]>>(); // namespace -> target key -> rows
  const targets = new Set<string>(); // known principals (target keys; roles are pool-wide here for lookups)
  const roles = new Map<string, Map<string, Set<string>>>(); // userId -> namespace -> role codes
  const groups = new Map<string, Set<string>>(); // userId -> group codes
  const departments = new Map<string, Set<string>>(); // userId -> department ids
  const rawGrants = new Map<string, Map<string, unknown[]>>(); // namespace -> userId -> entries served verbatim
  const tenants = createTenantGrants();

  function clearGrants(): void {
    tenants.clear();
    grants.clear();
    rawGrants.clear();
    targets.clear();
    roles.clear();
    groups.clear();
    departments.clear();
  }

  const rowsOf = (namespace: string, key: string): Row[] => grants.get(namespace)?.get(key) ?? [];

  function setRows(namespace: string, key: string, rows: Row[]): void {
    let byTarget = grants.get(namespace);
    if (!byTarget) grants.set(namespace, (byTarget = new Map()));
    byTarget.set(key, rows);
  }

  function requireNamespace(namespace: string): void {
    if (!namespaces.has(namespace)) throw new TenantError(404, '权限组不存在');
  }

  const know = (type: TargetType, id: string) => void targets.add(targetKey(type, id));

  function member(map: Map<string, Set<string>>, userId: string, code: string): void {
    let set = map.get(userId);
    if (!set) map.set(userId, (set = new Set()));
    set.add(code);
  }

  /** Serves a row: linked rows read the current resource definition (as GenAuth joins them). */
  function serve(namespace: string, row: Row): AuthorizedResource {
    const { linked, ...grant } = row;
    if (!linked) return grant;
    const definition = resources.get(namespace)?.get(row.resourceCode);
    return { ...grant, apiIdentifier: definition?.apiIdentifier ?? null, description: definition?.description ?? '' };
  }

  /** Union without exact duplicates (a grant inherited twice is one row). */
  function union(namespace: string, rows: Row[]): AuthorizedResource[] {
    const seen = new Set<string>();
    const out: AuthorizedResource[] = [];
    for (const row of rows) {
      const served = serve(namespace, row);
      const key = JSON.stringify(served);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(served);
    }
    return out;
  }

  return {
    /** Replace (or with `replace` false, extend) a user's direct grants in a namespace (inside `tenant`, when given: a member then). */
    putUserGrants(userId: string, input: GrantInput[], namespace = DEFAULT_NAMESPACE, replace = true, tenant?: string): void {
      namespaces.add(namespace);
      know('USER', userId);
      if (tenant !== undefined) return tenants.put(tenant, userId, input.map(fill), namespace, replace);
      const key = targetKey('USER', userId);
      setRows(namespace, key, [...(replace ? [] : rowsOf(namespace, key)), ...input.map(fill)]);
    },

    /** Entries served verbatim after the user's filled grants (no defaults, no dedupe): hostile-input tests. */
    putRawUserGrants(userId: string, entries: readonly unknown[], namespace = DEFAULT_NAMESPACE, tenant?: string): void {
      namespaces.add(namespace);
      know('USER', userId);
      if (tenant !== undefined) return tenants.putRaw(tenant, userId, entries, namespace);
      let byUser = rawGrants.get(namespace);
      if (!byUser) rawGrants.set(namespace, (byUser = new Map()));
      byUser.set(userId, [...entries]);
    },

    /** Makes a user known to the pool (and a member of `tenant`, when given). */
    addUser(userId: string, tenant?: string): void {
      know('USER', userId);
      if (tenant !== undefined) tenants.join(tenant, userId);
    },

    /** Whether GenAuth knows the user (seeded, and not deleted). */
    hasUser: (userId: string) => targets.has(targetKey('USER', userId)),

    /** The codes of a user's direct grants in a namespace (raw entries included where they name one). */
    directCodes(userId: string, namespace = DEFAULT_NAMESPACE, tenant?: string): string[] {
      const rawEntries = tenant === undefined ? rawGrants.get(namespace)?.get(userId) ?? [] : tenants.raw(tenant, userId, namespace);
      const rows = tenant === undefined ? rowsOf(namespace, targetKey('USER', userId)) : tenants.rows(tenant, userId, namespace);
      const raw = rawEntries.map((entry) => (entry as { resourceCode?: unknown } | null)?.resourceCode);
      return [...new Set([...rows.map((row) => row.resourceCode), ...raw.filter(isNonEmptyString)])];
    },

    /** Forgets a user: direct grants, raw entries, memberships; the user is unknown again. */
    deleteUser(userId: string): void {
      const key = targetKey('USER', userId);
      targets.delete(key);
      for (const byTarget of grants.values()) byTarget.delete(key);
      for (const byUser of rawGrants.values()) byUser.delete(userId);
      tenants.forgetUser(userId);
      roles.delete(userId);
      groups.delete(userId);
      departments.delete(userId);
    },

    assignRole(userId: string, roleCode: string, namespace = DEFAULT_NAMESPACE): void {
      know('USER', userId);
      know('ROLE', roleCode);
      namespaces.add(namespace);
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

    createNamespace(code: unknown): { code: string } {
      if (!isNonEmptyString(code)) throw new TenantError(400, 'code must not be empty');
      if (namespaces.has(code) && code !== DEFAULT_NAMESPACE) throw new TenantError(409, 'namespace already exists');
      namespaces.add(code);
      return { code };
    },

    /** `create-resource`: a new code in an existing namespace. */
    createResource(input: unknown): ResourceDefinition {
      const definition = resourceDefinition(input);
      const namespace = definition.namespace ?? DEFAULT_NAMESPACE;
      requireNamespace(namespace);
      let byCode = resources.get(namespace);
      if (!byCode) resources.set(namespace, (byCode = new Map()));
      if (byCode.has(definition.code)) throw new TenantError(409, `resource ${definition.code} already exists`);
      byCode.set(definition.code, definition);
      return definition;
    },

    /** `authorize-resources`: additive; granting the same code again merges the actions. Unknown codes are accepted. */
    authorizeResources(list: unknown, namespace = DEFAULT_NAMESPACE): void {
      const items = validateItems(list);
      requireNamespace(namespace);
      for (const item of items) {
        for (const id of item.targetIdentifiers) {
          know(item.targetType, id);
          const key = targetKey(item.targetType, id);
          const rows = [...rowsOf(namespace, key)];
          for (const resource of item.resources) {
            const effect = resource.effect ?? 'ALLOW';
            const existing = rows.findIndex(
              (r) => r.linked && r.resourceCode === resource.code && r.resourceType === resource.resourceType && r.effect === effect,
            );
            const previous = existing >= 0 && Array.isArray(rows[existing]?.actions) ? (rows[existing]?.actions as string[]) : [];
            const row: Row = {
              resourceCode: resource.code,
              resourceType: resource.resourceType,
              actions: [...new Set([...previous, ...resource.actions])],
              effect,
              apiIdentifier: null,
              description: '',
              condition: [],
              linked: true,
            };
            if (existing >= 0) rows[existing] = row;
            else rows.push(row);
          }
          setRows(namespace, key, rows);
        }
      }
    },

    /**
     * `get-user-authorized-resources`: direct ∪ role ∪ group ∪ department grants, or within `tenant` the
     * grants seeded into it; `undefined` for a user unknown to the pool, {@link NOT_A_MEMBER} for one
     * outside the tenant; throws for an unknown namespace.
     */
    userResources(userId: string, namespace = DEFAULT_NAMESPACE, resourceType?: string, tenant?: string): AuthorizedResource[] | typeof NOT_A_MEMBER | undefined {
      requireNamespace(namespace); // before the user, as get-authorized-resources checks it
      if (!targets.has(targetKey('USER', userId))) return undefined;
      let list: unknown[];
      if (tenant !== undefined) {
        if (!tenants.isMember(tenant, userId)) return NOT_A_MEMBER;
        list = [...union(namespace, tenants.rows(tenant, userId, namespace)), ...tenants.raw(tenant, userId, namespace)];
      } else {
        const rows = [...rowsOf(namespace, targetKey('USER', userId))];
        for (const role of roles.get(userId)?.get(namespace) ?? []) rows.push(...rowsOf(namespace, targetKey('ROLE', role)));
        for (const group of groups.get(userId) ?? []) rows.push(...rowsOf(namespace, targetKey('GROUP', group)));
        for (const department of departments.get(userId) ?? []) rows.push(...rowsOf(namespace, targetKey('DEPARTMENT', department)));
        list = [...union(namespace, rows), ...(rawGrants.get(namespace)?.get(userId) ?? [])];
      }
      const typed = (grant: unknown) => typeof grant === 'object' && grant !== null && (grant as { resourceType?: unknown }).resourceType === resourceType;
      return (resourceType ? list.filter(typed) : list) as AuthorizedResource[];
    },

    /** `get-authorized-resources`: the grants made to one principal itself (no inheritance). */
    targetResources(query: TargetQuery): AuthorizedResource[] {
      const type = query.targetType;
      if (type === undefined || !TARGET_TYPES.has(type)) throw new TenantError(400, 'targetType must be one of USER, ROLE, GROUP, DEPARTMENT');
      // Missing: a bad request. Empty: looked up like any other identifier, and not found (as GenAuth answers it).
      if (typeof query.targetIdentifier !== 'string') throw new TenantError(400, 'targetIdentifier must be a string');
      if (query.resourceList !== undefined && (query.resourceList.length === 0 || query.resourceList.length > 50)) {
        throw new TenantError(400, 'resourceList must have 1 to 50 items');
      }
      const namespace = query.namespace || DEFAULT_NAMESPACE;
      requireNamespace(namespace);
      const key = targetKey(type as TargetType, query.targetIdentifier);
      if (!targets.has(key)) {
        if (type === 'USER') throw new TenantError(404, '用户不存在', 2004);
        throw new TenantError(404, `${type.toLowerCase()} not exists with code: ${query.targetIdentifier}`);
      }
      const prefixes = query.resourceList?.map((entry) => (entry.endsWith('*') ? entry.slice(0, -1) : entry));
      return union(namespace, rowsOf(namespace, key)).filter(
        (grant) =>
          (query.withDenied === true || grant.effect !== 'DENY') &&
          (!query.resourceType || grant.resourceType === query.resourceType) &&
          (prefixes === undefined || prefixes.some((prefix) => grant.resourceCode.startsWith(prefix))),
      );
    },

    /** `list-resources`: definitions of a namespace, paged. */
    listResources(namespace = DEFAULT_NAMESPACE, type?: string): ResourceDefinition[] {
      requireNamespace(namespace);
      const all = [...(resources.get(namespace)?.values() ?? [])];
      return type ? all.filter((r) => r.type === type) : all;
    },

    /** Forget grants, memberships and known principals. */
    clearGrants,

    /** Back to an empty tenant. */
    reset(): void {
      clearGrants();
      resources.clear();
      namespaces.clear();
      namespaces.add(DEFAULT_NAMESPACE);
    },
  };
}

/** The emulated tenant. */
export type TenantStore = ReturnType<typeof createTenantStore>;
