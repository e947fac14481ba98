import type { Row } from './store-input.js';

/**
 * The tenants of the emulated user pool (GenAuth's multi-tenant): who is a member of each, and the
 * direct grants seeded for a member inside it. Roles, groups and departments stay the pool's: a tenant
 * answers only what was seeded into it, so a test never passes on grants it did not mean for the tenant.
 */
export function createTenantGrants() {
  const members = new Map<string, Set<string>>(); // tenant -> user ids
  const rows = new Map<string, Row[]>(); // tenant, namespace, user -> filled grants
  const raw = new Map<string, unknown[]>(); // tenant, namespace, user -> entries served verbatim
  const key = (tenant: string, namespace: string, userId: string) => JSON.stringify([tenant, namespace, userId]);
  const userOf = (entryKey: string) => (JSON.parse(entryKey) as string[])[2];

  function join(tenant: string, userId: string): void {
    let set = members.get(tenant);
    if (!set) members.set(tenant, (set = new Set()));
    set.add(userId);
  }

  return {
    join,
    isMember: (tenant: string, userId: string) => members.get(tenant)?.has(userId) === true,

    put(tenant: string, userId: string, input: Row[], namespace: string, replace: boolean): void {
      join(tenant, userId);
      const at = key(tenant, namespace, userId);
      rows.set(at, [...(replace ? [] : rows.get(at) ?? []), ...input]);
    },

    putRaw(tenant: string, userId: string, entries: readonly unknown[], namespace: string): void {
      join(tenant, userId);
      raw.set(key(tenant, namespace, userId), [...entries]);
    },

    rows: (tenant: string, userId: string, namespace: string): Row[] => rows.get(key(tenant, namespace, userId)) ?? [],
    raw: (tenant: string, userId: string, namespace: string): unknown[] => raw.get(key(tenant, namespace, userId)) ?? [],

    forgetUser(userId: string): void {
      for (const set of members.values()) set.delete(userId);
      for (const map of [rows, raw] as Array<Map<string, unknown>>) {
        for (const entryKey of [...map.keys()]) if (userOf(entryKey) === userId) map.delete(entryKey);
      }
    },

    clear(): void {
      members.clear();
      rows.clear();
      raw.clear();
    },
  };
}
