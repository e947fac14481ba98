import type { AuthorizedResource, Effect, PolicyCondition, ResourceType } from '../genauth/types.js';

/** One grant, normalized and ready to match. */
export interface Grant {
  readonly code: string;
  readonly type: ResourceType;
  readonly effect: Effect;
  readonly actions: readonly string[];
  readonly apiIdentifier: string | null;
  readonly conditions: readonly PolicyCondition[];
  /** True when the grant holds `*`. */
  readonly anyAction: boolean;
  /** Exact action names. */
  readonly actionSet: ReadonlySet<string>;
  /** Prefixes of `<resource>:*` actions, e.g. `ecs:`. */
  readonly actionPrefixes: readonly string[];
}

/** A user's grants indexed once per fetch: a Map by resource code plus the wildcard codes. */
export interface GrantIndex {
  readonly grants: readonly Grant[];
  /** Grants by exact resource code. */
  readonly byCode: ReadonlyMap<string, readonly Grant[]>;
  /** Grants with a wildcard code (`*` or `prefix:*`), with the prefix they cover (`''` for `*`). */
  readonly wildcards: ReadonlyArray<{ readonly prefix: string; readonly grant: Grant }>;
  /** True when some grant carries conditions, so a decision may need a condition context. */
  readonly hasConditions: boolean;
  /** Estimated heap bytes this index holds (calibrated against heap snapshots; see README). */
  readonly bytes: number;
}

// Per-object overheads measured on V8 (Node 20-24), rounded up so the budget is never underestimated.
const INDEX_BYTES = 400;
const GRANT_BYTES = 420;
const ACTION_BYTES = 60;
const CONDITION_BYTES = 160;

function grantBytes(grant: Grant): number {
  let bytes = GRANT_BYTES + 2 * grant.code.length + 2 * (grant.apiIdentifier?.length ?? 0);
  for (const action of grant.actions) bytes += ACTION_BYTES + 2 * action.length;
  for (const c of grant.conditions) bytes += CONDITION_BYTES + 2 * (String(c.param).length + String(c.operator).length + String(c.value).length);
  return bytes;
}

const RESOURCE_TYPES = new Set<string>(['DATA', 'API', 'MENU', 'BUTTON', 'UI']);

/** `actions` is documented as an array; a JSON-encoded string is accepted too. Null: unreadable. */
function readActions(value: unknown): string[] | null {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) return null;
  return list as string[];
}

function readEffect(value: unknown): Effect {
  if (value === undefined || value === null) return 'ALLOW';
  // Anything that is not plainly ALLOW is treated as DENY: fail closed.
  return typeof value === 'string' && value.toUpperCase() === 'ALLOW' ? 'ALLOW' : 'DENY';
}

/** Normalizes one upstream entry; returns null for an entry with no usable resource code. */
export function normalizeGrant(entry: AuthorizedResource): Grant | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const code = entry.resourceCode;
  if (typeof code !== 'string' || code === '') return null;
  const effect = readEffect(entry.effect);
  let actions = readActions(entry.actions);
  // An unreadable DENY still denies everything it names; an unreadable ALLOW grants nothing.
  if (actions === null) actions = effect === 'DENY' ? ['*'] : [];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let anyAction = false;
  for (const action of actions) {
    if (action === '*') anyAction = true;
    else if (action.endsWith(':*') && action.length > 2) prefixes.push(action.slice(0, -1));
    else exact.add(action);
  }
  const type = typeof entry.resourceType === 'string' ? entry.resourceType.toUpperCase() : '';
  return Object.freeze({
    code,
    type: (RESOURCE_TYPES.has(type) ? type : 'DATA') as ResourceType,
    effect,
    actions: Object.freeze(actions),
    apiIdentifier: typeof entry.apiIdentifier === 'string' && entry.apiIdentifier !== '' ? entry.apiIdentifier : null,
    conditions: Object.freeze(Array.isArray(entry.condition) ? [...entry.condition] : []),
    anyAction,
    actionSet: exact,
    actionPrefixes: Object.freeze(prefixes),
  });
}

/** Wildcard resource codes GenAuth uses: `*` and `prefix:*`. Returns the covered prefix or null. */
function wildcardPrefix(code: string): string | null {
  if (code === '*') return '';
  if (code.endsWith(':*') && code.length > 2) return code.slice(0, -1);
  return null;
}

/** Indexes a grant list once, so each decision is a Map lookup plus the (few) wildcard codes. */
export function indexGrants(entries: readonly AuthorizedResource[]): GrantIndex {
  const grants: Grant[] = [];
  const byCode = new Map<string, Grant[]>();
  const wildcards: Array<{ prefix: string; grant: Grant }> = [];
  for (const entry of entries) {
    const grant = normalizeGrant(entry);
    if (grant === null) continue;
    grants.push(grant);
    const prefix = wildcardPrefix(grant.code);
    if (prefix !== null) {
      wildcards.push({ prefix, grant });
      continue;
    }
    const list = byCode.get(grant.code);
    if (list === undefined) byCode.set(grant.code, [grant]);
    else list.push(grant);
  }
  let hasConditions = false;
  let bytes = INDEX_BYTES;
  for (const grant of grants) {
    if (grant.conditions.length > 0) hasConditions = true;
    bytes += grantBytes(grant);
  }
  return Object.freeze({ grants: Object.freeze(grants), byCode, wildcards: Object.freeze(wildcards), hasConditions, bytes });
}

/** True when the grant covers `action`: exactly, by `*`, or by `<resource>:*` (never by substring). */
export function grantCoversAction(grant: Grant, action: string): boolean {
  if (grant.anyAction || grant.actionSet.has(action)) return true;
  for (const prefix of grant.actionPrefixes) if (action.startsWith(prefix)) return true;
  return false;
}
