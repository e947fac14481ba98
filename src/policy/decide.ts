import type { ResourceType } from '../wire.js';
import { foldCase, grantCoversAction } from './actions.js';
import { codeWildcardCovers } from './code-wildcards.js';
import { checkedHeldGrants, grantAt, grantCount, isGrantList, otherCaseDenials, type CodeGrants, type GrantIndex, type HeldGrants } from './grants.js';
import type { Grant } from './normalize-grant.js';
import { refuseMissingValue } from './resource-code.js';

/** What a route requires: one action, all of several, or any of several. */
export type Requirement = string | { allOf: readonly string[] } | { anyOf: readonly string[] };

/** A requirement after validation. */
export interface NormalizedRequirement {
  readonly mode: 'allOf' | 'anyOf';
  readonly actions: readonly string[];
}

/**
 * Decides whether a grant's conditions hold. `true`: they hold; `false`: they do not; `undefined`:
 * they cannot be evaluated (unknown operator, missing key), so an ALLOW does not apply and a DENY does.
 */
export type ConditionCheck = (grant: Grant) => boolean | undefined;

/** The outcome of one decision. */
export interface Decision {
  readonly allowed: boolean;
  readonly resource: string;
  readonly mode: 'allOf' | 'anyOf';
  readonly actions: readonly string[];
  /** `allowed`; `denied` (a DENY grant matched); `no_grant` (nothing allowed it). */
  readonly reason: 'allowed' | 'denied' | 'no_grant';
  /** The grant that decided: the matching ALLOW, or the DENY that overrode it. */
  readonly grant?: Grant;
}

function nonEmptyActions(list: unknown, path: string): readonly string[] {
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError(`genauth-guard: ${path} must be a non-empty array of non-empty action strings`);
  }
  return Object.freeze([...list]);
}

/** Validates a requirement once, at route definition; throws a `TypeError` on a mistake. */
export function normalizeRequirement(requirement: Requirement): NormalizedRequirement {
  if (typeof requirement === 'string') {
    if (requirement === '') throw new TypeError('genauth-guard: the required action must be a non-empty string');
    return Object.freeze({ mode: 'allOf', actions: Object.freeze([requirement]) });
  }
  if (typeof requirement === 'object' && requirement !== null) {
    const hasAll = 'allOf' in requirement;
    const hasAny = 'anyOf' in requirement;
    if (hasAll !== hasAny) {
      return hasAll
        ? Object.freeze({ mode: 'allOf', actions: nonEmptyActions(requirement.allOf, 'allOf') })
        : Object.freeze({ mode: 'anyOf', actions: nonEmptyActions((requirement as { anyOf: unknown }).anyOf, 'anyOf') });
    }
  }
  throw new TypeError('genauth-guard: the requirement must be an action string, { allOf: [...] } or { anyOf: [...] }');
}

const NO_CONDITIONS: ConditionCheck = () => undefined;
const NO_OPTIONS: { resourceType?: ResourceType; conditions?: ConditionCheck } = Object.freeze({});

interface ActionOutcome {
  allowed: boolean;
  grant: Grant | undefined;
}

function decideAction(
  candidates: CodeGrants | undefined,
  action: string,
  resourceType: ResourceType | undefined,
  conditions: ConditionCheck,
): ActionOutcome {
  let allow: Grant | undefined;
  // Folded once, on the first DENY: DENY actions match case-insensitively.
  let folded: string | undefined;
  if (candidates === undefined) return { allowed: false, grant: undefined };
  const count = grantCount(candidates);
  for (let i = 0; i < count; i++) {
    const grant = grantAt(candidates, i);
    // A route that asks for a type counts grants of that type, and DENYs of an unknown type (null: fail
    // closed); an ALLOW of an unknown type never counts there.
    if (resourceType !== undefined && grant.type !== resourceType && (grant.type !== null || grant.effect !== 'DENY')) continue;
    if (grant.effect === 'DENY') folded ??= foldCase(action);
    if (!grantCoversAction(grant, action, folded)) continue;
    const holds = grant.conditions.length === 0 ? true : conditions(grant);
    if (grant.effect === 'DENY') {
      // A DENY applies unless its conditions are known not to hold: it overrides any ALLOW, whatever the order.
      if (holds !== false) return { allowed: false, grant };
    } else if (allow === undefined && holds === true) {
      allow = grant;
    }
  }
  return { allowed: allow !== undefined, grant: allow };
}

/**
 * The grants that name `resource`: by exact code, then by wildcard code (see `codeWildcard`: a DENY's
 * `*` segments stand for any segments or none, an ALLOW's code is literal but for `*` and a trailing
 * `:*`). A DENY's code, exact or wildcard, names `resource` in any case (see `foldCase`): GenAuth does
 * not say whether codes are case-sensitive, and a DENY of `Books` that left `books` to an ALLOW would
 * fail open if they are one resource. A code with grants of its own has those DENYs in its exact
 * lookup already; only a code without (which nothing but a wildcard grants) is folded here. Without
 * wildcard grants, the index's own value (a lone grant is not wrapped): the decision path makes no
 * array per call.
 */
export function candidateGrants(index: HeldGrants, resource: string): CodeGrants | undefined {
  const exact = index.exact(resource);
  // Kept small, the rest apart: the cached path (a code with grants of its own, no wildcard) does what it did.
  if (index.wildcards.length === 0 && exact !== undefined) return exact;
  return moreCandidates(index, exact, resource);
}

/** {@link candidateGrants} for a code without grants of its own, or with wildcard grants in the index. */
function moreCandidates(index: HeldGrants, exact: CodeGrants | undefined, resource: string): CodeGrants | undefined {
  const otherCase = exact === undefined && index.denyCodesByFold !== undefined ? otherCaseDenials(index, resource) : undefined;
  if (index.wildcards.length === 0) return otherCase;
  const list: Grant[] = exact === undefined ? (otherCase ?? []) : isGrantList(exact) ? [...exact] : [exact];
  let folded: string | undefined;
  for (const wildcard of index.wildcards) {
    if (codeWildcardCovers(wildcard, wildcard.grant.effect === 'DENY' ? (folded ??= foldCase(resource)) : resource)) list.push(wildcard.grant);
  }
  return list;
}

/**
 * Pure decision: DENY overrides ALLOW; actions match exactly or by `*` / `<resource>:*` (a DENY's
 * case-insensitively); the resource code matches exactly or by `*` / `prefix:*` (a DENY's by `*`
 * segments anywhere, each standing for any segments or none). With `resourceType`, only grants of that
 * type count, and DENYs of an unknown type (never an ALLOW of one); without it, every type does. With
 * `anyOf`, a DENY on one action does not refuse an ALLOW on another that no DENY covers.
 * @throws TypeError for a GrantIndex of the app's own whose wildcard records are not those
 * `indexGrants()` makes (a record without `pattern`, or with a prefix or pattern its code does not
 * read as): such an index could read a DENY narrower than its code.
 */
export function decide(
  index: GrantIndex,
  resource: string,
  requirement: NormalizedRequirement,
  options: { resourceType?: ResourceType | undefined; conditions?: ConditionCheck } = NO_OPTIONS,
): Decision {
  return decideIndexed(checkedHeldGrants(index), resource, requirement, options);
}

/**
 * {@link decide} over what the decision path reads of an index the guard made itself
 * (`heldGrants`, taken once per grant set), without the checks of `checkedHeldGrants`: the guard's own
 * decision path, where no index of an app's own arrives.
 */
export function decideIndexed(
  index: HeldGrants,
  resource: string,
  requirement: NormalizedRequirement,
  options: { resourceType?: ResourceType | undefined; conditions?: ConditionCheck } = NO_OPTIONS,
): Decision {
  const candidates = candidateGrants(index, resource);
  const conditions = options.conditions ?? NO_CONDITIONS;
  const { mode, actions } = requirement;
  let decidingAllow: Grant | undefined;
  let decidingDeny: Grant | undefined;
  let anyAllowed = false;
  let allAllowed = true;
  for (const action of actions) {
    const outcome = decideAction(candidates, action, options.resourceType, conditions);
    if (!outcome.allowed && outcome.grant !== undefined) {
      // An explicit DENY on a required action decides, for allOf and anyOf alike.
      if (mode === 'allOf') return Object.freeze({ allowed: false, resource, mode, actions, reason: 'denied', grant: outcome.grant });
      decidingDeny ??= outcome.grant;
    }
    if (outcome.allowed) {
      anyAllowed = true;
      decidingAllow ??= outcome.grant;
    } else {
      allAllowed = false;
    }
  }
  const allowed = mode === 'allOf' ? allAllowed : anyAllowed;
  if (allowed) return Object.freeze({ allowed, resource, mode, actions, reason: 'allowed', grant: decidingAllow });
  if (decidingDeny !== undefined) return Object.freeze({ allowed, resource, mode, actions, reason: 'denied', grant: decidingDeny });
  return Object.freeze({ allowed, resource, mode, actions, reason: 'no_grant' });
}

/** Longest resource whose decision {@link decideRemembered} keeps (the cache's byte estimate counts this much). */
export const REMEMBERED_RESOURCE_MAX = 128;

/** Where {@link decideRemembered} keeps a user's last decision: beside the grants it was made from. */
export interface DecisionMemo {
  readonly index: GrantIndex;
  /** What the decision path reads of `index` (`heldGrants(index)`). */
  readonly held: HeldGrants;
  lastDecision: Decision | undefined;
  lastResourceType: ResourceType | undefined;
}

/**
 * decide() without conditions, reusing the last decision made from the same grants when the same
 * requirement (the route's own normalized object) asks about the same resource with the same type
 * filter: a user repeating a request decides once per fetch of their grants. Without conditions a
 * decision depends on nothing else, and decisions are frozen, so one may serve every request.
 */
export function decideRemembered(
  memo: DecisionMemo,
  resource: string,
  requirement: NormalizedRequirement,
  resourceType: ResourceType | undefined,
): Decision {
  const last = memo.lastDecision;
  if (last !== undefined && last.actions === requirement.actions && last.mode === requirement.mode && last.resource === resource && memo.lastResourceType === resourceType) {
    return last;
  }
  // Here, where a decision is made (a remembered one passed this when it was made).
  refuseMissingValue(resource);
  const decision = decideIndexed(memo.held, resource, requirement, resourceType === undefined ? undefined : { resourceType });
  if (resource.length <= REMEMBERED_RESOURCE_MAX) {
    memo.lastDecision = decision;
    memo.lastResourceType = resourceType;
  }
  return decision;
}
