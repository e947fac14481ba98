import type { AuthorizedResource } from '../../wire.js';
import type { AuthorizeItem, GrantInput, TargetType } from '../types.js';
import { DEFAULT_NAMESPACE, TARGET_TYPES, TenantError, fill, isNonEmptyString, isResourceType, isStringArray, targetKey, type Row } from './common.js';
import type { MembershipStore } from './memberships.js';
import type { ResourceStore } from './resources.js';

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

function validateItems(list: unknown): AuthorizeItem[] {
  if (!Array.isArray(list) || list.length === 0 || list.length > 10) throw new TenantError(400, 'list must have 1 to 10 items');
  for (const item of list as Array<Partial<AuthorizeItem>>) {
    if (typeof item !== 'object' || item === null) throw new TenantError(400, 'list items must be objects');
    if (typeof item.targetType !== 'string' || !TARGET_TYPES.has(item.targetType)) {
      throw new TenantError(400, 'targetType must be one of USER, ROLE, GROUP, DEPARTMENT');
    }
    const ids = item.targetIdentifiers;
    if (!isStringArray(ids) || ids.length === 0 || ids.length > 100 || !ids.every(isNonEmptyString)) {
      throw new TenantError(400, 'targetIdentifiers must have 1 to 100 identifiers');
    }
    if (!Array.isArray(item.resources) || item.resources.length === 0) throw new TenantError(400, 'resources must not be empty');
    for (const resource of item.resources) {
      if (typeof resource !== 'object' || resource === null || !isNonEmptyString(resource.code)) {
        throw new TenantError(400, 'resources[].code must not be empty');
      }
      if (!isStringArray(resource.actions) || resource.actions.length > 50) throw new TenantError(400, 'resources[].actions must be an array of strings');
      if (!isResourceType(resource.resourceType)) throw new TenantError(400, 'resources[].resourceType is invalid');
      if (resource.effect !== undefined && resource.effect !== 'ALLOW' && resource.effect !== 'DENY') {
        throw new TenantError(400, 'resources[].effect must be ALLOW or DENY');
      }
    }
  }
  return list as AuthorizeItem[];
}

/**
 * The tenant's grants per principal and namespace (seeded, authorized, or served verbatim) and the
 * queries that read them, joined with the memberships and the resource definitions.
 */
export function createGrantStore(members: MembershipStore, resources: ResourceStore) {
  const grants = new Map<string, Map<string, Row[]>>(); // namespace -> target key -> rows
  const rawGrants = new Map<string, Map<string, unknown[]>>(); // namespace -> userId -> entries served verbatim
  const { know } = members;

  const rowsOf = (namespace: string, key: string): Row[] => grants.get(namespace)?.get(key) ?? [];

  function setRows(namespace: string, key: string, rows: Row[]): void {
    let byTarget = grants.get(namespace);
    if (!byTarget) grants.set(namespace, (byTarget = new Map()));
    byTarget.set(key, rows);
  }

  /** Serves a row: linked rows read the current resource definition (as GenAuth joins them). */
  function serve(namespace: string, row: Row): AuthorizedResource {
    const { linked, ...grant } = row;
    if (!linked) return grant;
    const definition = resources.definition(namespace, row.resourceCode);
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
    /** Replace (or with `replace` false, extend) a user's direct grants in a namespace. */
    putUserGrants(userId: string, input: GrantInput[], namespace = DEFAULT_NAMESPACE, replace = true): void {
      resources.addNamespace(namespace);
      know('USER', userId);
      const key = targetKey('USER', userId);
      setRows(namespace, key, [...(replace ? [] : rowsOf(namespace, key)), ...input.map(fill)]);
    },

    /** Entries served verbatim after the user's filled grants (no defaults, no dedupe): hostile-input tests. */
    putRawUserGrants(userId: string, entries: readonly unknown[], namespace = DEFAULT_NAMESPACE): void {
      resources.addNamespace(namespace);
      know('USER', userId);
      let byUser = rawGrants.get(namespace);
      if (!byUser) rawGrants.set(namespace, (byUser = new Map()));
      byUser.set(userId, [...entries]);
    },

    /** `authorize-resources`: additive; granting the same code again merges the actions. Unknown codes are accepted. */
    authorizeResources(list: unknown, namespace = DEFAULT_NAMESPACE): void {
      const items = validateItems(list);
      resources.requireNamespace(namespace);
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

    /** `get-user-authorized-resources`: direct ∪ role ∪ group ∪ department grants; `undefined` for an unknown user. */
    userResources(userId: string, namespace = DEFAULT_NAMESPACE, resourceType?: string): AuthorizedResource[] | undefined {
      if (!members.knows(targetKey('USER', userId))) return undefined;
      const rows = [...rowsOf(namespace, targetKey('USER', userId))];
      for (const key of members.inherited(userId, namespace)) rows.push(...rowsOf(namespace, key));
      const list: unknown[] = union(namespace, rows);
      list.push(...(rawGrants.get(namespace)?.get(userId) ?? []));
      const typed = (grant: unknown) => typeof grant === 'object' && grant !== null && (grant as { resourceType?: unknown }).resourceType === resourceType;
      return (resourceType ? list.filter(typed) : list) as AuthorizedResource[];
    },

    /** `get-authorized-resources`: the grants made to one principal itself (no inheritance). */
    targetResources(query: TargetQuery): AuthorizedResource[] {
      const type = query.targetType;
      if (type === undefined || !TARGET_TYPES.has(type)) throw new TenantError(400, 'targetType must be one of USER, ROLE, GROUP, DEPARTMENT');
      if (!isNonEmptyString(query.targetIdentifier)) throw new TenantError(400, 'targetIdentifier must not be empty');
      if (query.resourceList !== undefined && (query.resourceList.length === 0 || query.resourceList.length > 50)) {
        throw new TenantError(400, 'resourceList must have 1 to 50 items');
      }
      const namespace = query.namespace || DEFAULT_NAMESPACE;
      resources.requireNamespace(namespace);
      const key = targetKey(type as TargetType, query.targetIdentifier);
      if (!members.knows(key)) {
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

    /** Forget every grant. */
    clear(): void {
      grants.clear();
      rawGrants.clear();
    },
  };
}
