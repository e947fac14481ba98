/**
 * Why a decision came out as it did: every grant of the user, and what each did. Pure, and written
 * against the same helpers as decide() (candidate grants, action cover, conditions), in the same
 * order, so its verdict is decide()'s; test/policy/explain.test.ts holds the two equal.
 */
import type { PolicyCondition, ResourceType } from '../wire.js';
import { foldCase, grantCoversAction } from './actions.js';
import { candidateGrants, type ConditionCheck, type Decision, type NormalizedRequirement } from './decide.js';
import { checkedHeldGrants, grantList, type GrantIndex } from './grants.js';
import { grantNotes, type Grant, type GrantNotes } from './normalize-grant.js';

/**
 * What one grant did:
 * - `applies`: it allows (an ALLOW) or denies (a DENY) at least one asked action;
 * - `code_mismatch` / `pattern_mismatch`: its resource code (API mode: its `apiIdentifier`) does not cover the target;
 * - `type_mismatch`: a resource type was asked for and the grant has another (an ALLOW: or one the guard
 *   does not know; a DENY of an unknown type counts for every type, so it is never a mismatch);
 * - `not_api`: API mode counts only `API` grants (and DENYs of an unknown type) with an `apiIdentifier`;
 * - `other_origin` / `invalid_pattern`: API mode, an absolute identifier of another API, or an unreadable ALLOW pattern;
 * - `action_mismatch`: it covers none of the asked actions (API mode: the method's action);
 * - `method_unmapped`: API mode, the method has no action, so no grant was looked at;
 * - `condition_false` / `condition_unevaluable`: an ALLOW whose conditions do not hold, or cannot be evaluated
 *   (with several, also when they disagree under `conditions.combine` `'unknown'`); a DENY whose conditions
 *   do not hold (an unevaluable DENY applies: see `condition`);
 * - `overridden_by_deny`: an ALLOW that held, for every action it held for, where a DENY applied.
 */
export type GrantOutcome =
  | 'applies'
  | 'code_mismatch'
  | 'pattern_mismatch'
  | 'type_mismatch'
  | 'not_api'
  | 'other_origin'
  | 'invalid_pattern'
  | 'action_mismatch'
  | 'method_unmapped'
  | 'condition_false'
  | 'condition_unevaluable'
  | 'overridden_by_deny';

/** The condition that made a grant's conditions false or unevaluable. */
export interface ConditionFinding {
  /** Its position in the grant's conditions. */
  readonly index: number;
  readonly condition: PolicyCondition;
  readonly result: false | 'unevaluable';
}

/** One grant as explain saw it, with the notes normalization left on its entry ({@link GrantNotes}). */
export interface ExplainedGrant extends GrantNotes {
  /** The grant, normalized (the user's own policy; no secret). */
  readonly grant: Grant;
  readonly outcome: GrantOutcome;
  /** True for the grant the decision names (`decision.grant`). */
  readonly decisive: boolean;
  /** The asked actions the grant covers. */
  readonly actions: readonly string[];
  /**
   * The first condition that was false, else the first that could not be evaluated; on a DENY that
   * applies, the first that could not be evaluated (a false one beside it is not why it applies).
   */
  readonly condition?: ConditionFinding;
  /** For an overridden ALLOW: the DENY that overrode it (the first, for the first such action). */
  readonly overriddenBy?: Grant;
  /** API mode: an unreadable DENY pattern, widened to the subtree above its first bad segment. */
  readonly widened?: true;
}

/** A decision with every grant considered. */
export interface Explanation extends Decision {
  readonly grants: readonly ExplainedGrant[];
}

type Tri = boolean | undefined;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NO_CONDITIONS: ConditionCheck = () => undefined;

/**
 * The first false condition, else the first unevaluable one; with `held` undefined on a DENY (it
 * applies), the first unevaluable one only: a false condition is not why it applies (with several,
 * `conditions.combine` `'unknown'` lets a DENY lapse only when all are false). Each is asked of `check`
 * alone (a grant holding that one condition), so a context-bound check answers for it exactly as for
 * the whole grant.
 */
export function findCondition(grant: Grant, check: ConditionCheck, held: boolean | undefined): ConditionFinding | undefined {
  const denyApplies = grant.effect === 'DENY' && held === undefined;
  let unknown: ConditionFinding | undefined;
  for (let index = 0; index < grant.conditions.length; index++) {
    const condition = grant.conditions[index] as PolicyCondition;
    const result = check({ ...grant, conditions: [condition] });
    if (result === false && !denyApplies) return { index, condition, result: false };
    if (result === undefined) unknown ??= { index, condition, result: 'unevaluable' };
  }
  return unknown;
}

/** Copies the notes normalization left on the grant's entry (each one `true`; none when it assumed nothing). */
export function withNotes(explained: Mutable<ExplainedGrant>): ExplainedGrant {
  return Object.assign(explained, grantNotes(explained.grant));
}

interface ActionWalk {
  /** decideAction()'s answer: the deciding DENY, or the first ALLOW that holds. */
  readonly allowed: boolean;
  readonly grant: Grant | undefined;
}

/**
 * Explains a per-route decision: the same verdict as `decide(index, resource, requirement, options)`,
 * plus each of the user's grants and what it did.
 * @example explainDecision(indexGrants(entries), 'ecs:1', normalizeRequirement('ecs:Start')).grants
 * @throws TypeError for a GrantIndex of the app's own whose wildcard records are not those `indexGrants()` makes (as `decide`).
 */
export function explainDecision(
  index: GrantIndex,
  resource: string,
  requirement: NormalizedRequirement,
  options: { resourceType?: ResourceType | undefined; conditions?: ConditionCheck } = {},
): Explanation {
  // As an array: explain walks the candidates more than once, and is off the hot path.
  const candidates = grantList(candidateGrants(checkedHeldGrants(index), resource));
  const check = options.conditions ?? NO_CONDITIONS;
  const { resourceType } = options;
  const { mode, actions } = requirement;
  const holds = new Map<Grant, Tri>();
  const holdsOf = (grant: Grant): Tri => {
    if (grant.conditions.length === 0) return true;
    if (!holds.has(grant)) holds.set(grant, check(grant));
    return holds.get(grant);
  };
  // As decideAction(): a DENY of an unknown type counts on a typed route; an ALLOW of one does not.
  const typeMatches = (grant: Grant): boolean =>
    resourceType === undefined || grant.type === resourceType || (grant.type === null && grant.effect === 'DENY');

  // Each action walked as decideAction() walks it: candidates in order, the first applying DENY decides.
  const walks: ActionWalk[] = actions.map((action) => {
    let allow: Grant | undefined;
    const folded = foldCase(action);
    for (const grant of candidates) {
      if (!typeMatches(grant)) continue;
      if (!grantCoversAction(grant, action, grant.effect === 'DENY' ? folded : undefined)) continue;
      const held = holdsOf(grant);
      if (grant.effect === 'DENY') {
        if (held !== false) return { allowed: false, grant };
      } else if (allow === undefined && held === true) {
        allow = grant;
      }
    }
    return { allowed: allow !== undefined, grant: allow };
  });

  // The verdict, folded over the actions as decide() folds it.
  let decision: Mutable<Decision> | undefined;
  let decidingAllow: Grant | undefined;
  let decidingDeny: Grant | undefined;
  let anyAllowed = false;
  let allAllowed = true;
  for (const walk of walks) {
    if (!walk.allowed && walk.grant !== undefined) {
      if (mode === 'allOf') {
        decision = { allowed: false, resource, mode, actions, reason: 'denied', grant: walk.grant };
        break;
      }
      decidingDeny ??= walk.grant;
    }
    if (walk.allowed) {
      anyAllowed = true;
      decidingAllow ??= walk.grant;
    } else {
      allAllowed = false;
    }
  }
  if (decision === undefined) {
    const allowed = mode === 'allOf' ? allAllowed : anyAllowed;
    if (allowed) decision = { allowed, resource, mode, actions, reason: 'allowed', grant: decidingAllow };
    else if (decidingDeny !== undefined) decision = { allowed, resource, mode, actions, reason: 'denied', grant: decidingDeny };
    else decision = { allowed, resource, mode, actions, reason: 'no_grant' };
  }

  const candidateSet = new Set(candidates);
  const explained = index.grants.map((grant): ExplainedGrant => {
    const base: Mutable<ExplainedGrant> = { grant, outcome: 'code_mismatch', decisive: grant === decision.grant, actions: [] };
    if (!candidateSet.has(grant)) return withNotes(base);
    if (!typeMatches(grant)) return withNotes({ ...base, outcome: 'type_mismatch' });
    const covered = actions.filter((action) => grantCoversAction(grant, action));
    base.actions = covered;
    if (covered.length === 0) return withNotes({ ...base, outcome: 'action_mismatch' });
    const held = holdsOf(grant);
    if (held !== true) {
      const finding = findCondition(grant, check, held);
      if (finding !== undefined) base.condition = finding;
    }
    if (grant.effect === 'DENY') {
      base.outcome = held === false ? 'condition_false' : 'applies';
      return withNotes(base);
    }
    if (held !== true) {
      base.outcome = held === false ? 'condition_false' : 'condition_unevaluable';
      return withNotes(base);
    }
    // An ALLOW that holds: overridden where the action's walk ended on a DENY.
    let overriddenBy: Grant | undefined;
    let appliesSomewhere = false;
    covered.forEach((action) => {
      const walk = walks[actions.indexOf(action)] as ActionWalk;
      if (!walk.allowed && walk.grant !== undefined) overriddenBy ??= walk.grant;
      else appliesSomewhere = true;
    });
    if (!appliesSomewhere && overriddenBy !== undefined) return withNotes({ ...base, outcome: 'overridden_by_deny', overriddenBy });
    base.outcome = 'applies';
    return withNotes(base);
  });
  return Object.freeze({ ...decision, grants: Object.freeze(explained) });
}
