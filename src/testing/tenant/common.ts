import { RESOURCE_TYPES, type AuthorizedResource, type ResourceType } from '../../wire.js';
import type { GrantInput, TargetType } from '../types.js';

/** What every part of the emulated tenant shares: its refusal, its checks, its keys and rows. */

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

export const targetKey = (type: TargetType, id: string) => `${type}\u0000${id}`;
