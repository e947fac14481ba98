/** Resource types of GenAuth's ACL permission model. */
export type ResourceType = 'DATA' | 'API' | 'MENU' | 'BUTTON' | 'UI';

/** Effect of a grant: DENY overrides ALLOW. */
export type Effect = 'ALLOW' | 'DENY';

/** One condition of a policy, as GenAuth returns it. */
export interface PolicyCondition {
  param: string;
  operator: string;
  value: string | string[];
}

/**
 * One entry of `get-user-authorized-resources` (`AuthorizedResourceDto`).
 * `actions` is documented as an array; a JSON-encoded string is accepted too.
 */
export interface AuthorizedResource {
  resourceCode: string;
  resourceType: ResourceType;
  actions: string[] | string;
  effect?: Effect;
  apiIdentifier?: string | null;
  description?: string;
  condition?: PolicyCondition[] | null;
}

/** The V3 response envelope. */
export interface Envelope<T> {
  statusCode: number;
  message?: string;
  apiCode?: number;
  requestId?: string;
  data?: T;
}

export interface AuthorizedResourceList {
  totalCount: number;
  list: AuthorizedResource[];
}

/** `userIdType` values accepted by `get-user-authorized-resources`. */
export type UserIdType =
  | 'user_id'
  | 'external_id'
  | 'phone'
  | 'email'
  | 'username'
  | 'identity'
  | 'sync_relation'
  | 'custom_field';
