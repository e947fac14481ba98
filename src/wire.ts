/**
 * GenAuth's data as it arrives over the wire: the shapes that several layers name (`policy/` decides
 * on them, `genauth/` fetches them, the options and the emulator speak of their types). It imports
 * nothing, so `policy/` depends on it without depending on the GenAuth client. Our own model of a
 * grant (`Grant`, normalized) lives in `policy/`.
 */

/** Resource types of GenAuth's ACL permission model. */
export type ResourceType = 'DATA' | 'API' | 'MENU' | 'BUTTON' | 'UI';

/** Every {@link ResourceType}, for runtime checks. */
export const RESOURCE_TYPES: readonly ResourceType[] = Object.freeze(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);

/** Effect of a grant: DENY overrides ALLOW. */
export type Effect = 'ALLOW' | 'DENY';

/**
 * One condition of a policy, as GenAuth documents it. An item the guard cannot read (no string `param`
 * or `operator`, no readable `value`) is an unknown condition: an ALLOW does not apply, a DENY does.
 */
export interface PolicyCondition {
  param: string;
  operator: string;
  value: string | string[];
}

/**
 * One entry of `get-user-authorized-resources` (`AuthorizedResourceDto`).
 * `actions` is documented as an array; a JSON-encoded string is accepted too. `condition` is documented
 * as an array; GenAuth's own example shows one object, read as a list of one.
 */
export interface AuthorizedResource {
  resourceCode: string;
  /**
   * A type the guard does not know (or none): such an ALLOW matches no route that asks for a type and never
   * counts in API mode; such a DENY counts on every route, and in API mode as an `API` grant (fail closed).
   */
  resourceType: ResourceType;
  actions: string[] | string;
  /** Required, as GenAuth marks it: an entry without a plain `ALLOW` (missing included) counts as DENY. */
  effect: Effect;
  apiIdentifier?: string | null;
  description?: string;
  /** Absent, `null` or `[]`: no conditions. Anything but objects: an ALLOW grants nothing, a DENY applies. */
  condition?: PolicyCondition[] | PolicyCondition | null;
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
