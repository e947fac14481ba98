/** The emulated tenant's input: its checks, its defaults and its refusals. */
import { RESOURCE_TYPES, type AuthorizedResource, type ResourceType } from '../wire.js';
import type { AuthorizeItem, GrantInput, ResourceDefinition } from './types.js';

const RESOURCE_TYPE_SET: ReadonlySet<string> = new Set(RESOURCE_TYPES);
export const TARGET_TYPES: ReadonlySet<string> = new Set(['USER', 'ROLE', 'GROUP', 'DEPARTMENT']);
export const DEFAULT_NAMESPACE = 'default';

/** A refused write or query, answered as a body error (`statusCode`, optional `apiCode`). */
export class TenantError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly apiCode?: number,
  ) {
    super(message);
    this.name = 'TenantError';
  }
}

/** A stored grant; `linked` rows take `apiIdentifier`/`description` from the resource definition when served. */
export type Row = AuthorizedResource & { linked?: boolean };

export const isResourceType = (value: unknown): value is ResourceType => typeof value === 'string' && RESOURCE_TYPE_SET.has(value);
export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';
export const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** A grant as tests write it, with GenAuth-like defaults filled. */
export function fill(grant: GrantInput): Row {
  return {
    resourceCode: grant.resourceCode,
    resourceType: grant.resourceType ?? 'DATA',
    actions: Array.isArray(grant.actions) ? [...grant.actions] : grant.actions,
    effect: grant.effect ?? 'ALLOW',
    apiIdentifier: grant.apiIdentifier ?? null,
    description: grant.description ?? '',
    condition: grant.condition ?? [],
  };
}

/** `authorize-resources`' list, checked as GenAuth documents it (an `effect` per resource is an emulator extension). */
export function validateItems(list: unknown): AuthorizeItem[] {
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

/** `create-resource`'s body as a checked definition (the namespace's existence is the store's to check). */
export function resourceDefinition(input: unknown): ResourceDefinition {
  const body = (typeof input === 'object' && input !== null ? input : {}) as Partial<ResourceDefinition>;
  if (!isNonEmptyString(body.code)) throw new TenantError(400, 'code must not be empty');
  if (!isResourceType(body.type)) throw new TenantError(400, 'type must be one of DATA, API, MENU, BUTTON, UI');
  const actions = body.actions ?? [];
  if (!Array.isArray(actions) || !actions.every((a) => typeof a === 'object' && a !== null && isNonEmptyString(a.name))) {
    throw new TenantError(400, 'actions must be [{ name, description }]');
  }
  if (body.apiIdentifier !== undefined && typeof body.apiIdentifier !== 'string') throw new TenantError(400, 'apiIdentifier must be a string');
  return {
    code: body.code,
    name: body.name ?? body.code,
    description: body.description ?? '',
    type: body.type,
    actions: actions.map((a) => ({ name: a.name, description: a.description ?? '' })),
    ...(body.apiIdentifier === undefined ? {} : { apiIdentifier: body.apiIdentifier }),
    namespace: body.namespace ?? DEFAULT_NAMESPACE,
  };
}
