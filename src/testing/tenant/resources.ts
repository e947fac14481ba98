import type { ResourceDefinition } from '../types.js';
import { DEFAULT_NAMESPACE, TenantError, isNonEmptyString, isResourceType } from './common.js';

/** The tenant's namespaces and resource definitions (`create-namespace`, `create-resource`, `list-resources`). */
export function createResourceStore() {
  const namespaces = new Set<string>([DEFAULT_NAMESPACE]);
  const resources = new Map<string, Map<string, ResourceDefinition>>(); // namespace -> code -> definition

  function requireNamespace(namespace: string): void {
    if (!namespaces.has(namespace)) throw new TenantError(404, '权限组不存在');
  }

  return {
    requireNamespace,

    /** A namespace comes into being when something is seeded in it. */
    addNamespace: (namespace: string) => void namespaces.add(namespace),

    definition: (namespace: string, code: string): ResourceDefinition | undefined => resources.get(namespace)?.get(code),

    createNamespace(code: unknown): { code: string } {
      if (!isNonEmptyString(code)) throw new TenantError(400, 'code must not be empty');
      if (namespaces.has(code) && code !== DEFAULT_NAMESPACE) throw new TenantError(409, 'namespace already exists');
      namespaces.add(code);
      return { code };
    },

    /** `create-resource`: a new code in an existing namespace. */
    createResource(input: unknown): ResourceDefinition {
      const body = (typeof input === 'object' && input !== null ? input : {}) as Partial<ResourceDefinition>;
      if (!isNonEmptyString(body.code)) throw new TenantError(400, 'code must not be empty');
      if (!isResourceType(body.type)) throw new TenantError(400, 'type must be one of DATA, API, MENU, BUTTON, UI');
      const actions = body.actions ?? [];
      if (!Array.isArray(actions) || !actions.every((a) => typeof a === 'object' && a !== null && isNonEmptyString(a.name))) {
        throw new TenantError(400, 'actions must be [{ name, description }]');
      }
      if (body.apiIdentifier !== undefined && typeof body.apiIdentifier !== 'string') throw new TenantError(400, 'apiIdentifier must be a string');
      const namespace = body.namespace ?? DEFAULT_NAMESPACE;
      requireNamespace(namespace);
      let byCode = resources.get(namespace);
      if (!byCode) resources.set(namespace, (byCode = new Map()));
      if (byCode.has(body.code)) throw new TenantError(409, `resource ${body.code} already exists`);
      const definition: ResourceDefinition = {
        code: body.code,
        name: body.name ?? body.code,
        description: body.description ?? '',
        type: body.type,
        actions: actions.map((a) => ({ name: a.name, description: a.description ?? '' })),
        ...(body.apiIdentifier === undefined ? {} : { apiIdentifier: body.apiIdentifier }),
        namespace,
      };
      byCode.set(body.code, definition);
      return definition;
    },

    /** `list-resources`: definitions of a namespace, paged. */
    listResources(namespace = DEFAULT_NAMESPACE, type?: string): ResourceDefinition[] {
      requireNamespace(namespace);
      const all = [...(resources.get(namespace)?.values() ?? [])];
      return type ? all.filter((r) => r.type === type) : all;
    },

    /** Back to the 'default' namespace alone, with no definitions. */
    reset(): void {
      resources.clear();
      namespaces.clear();
      namespaces.add(DEFAULT_NAMESPACE);
    },
  };
}

/** The tenant's namespaces and resource definitions. */
export type ResourceStore = ReturnType<typeof createResourceStore>;
