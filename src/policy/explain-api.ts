/**
 * Why an API-mode decision came out as it did. Pure; each grant is compiled and matched with the same
 * pattern compiler, trie walk, folds and order as matchApi(), one grant at a time, so its verdict is
 * matchApi()'s (test/policy/explain.test.ts holds the two equal).
 */
import { grantCoversAction } from './actions.js';
import { grantPattern, type ApiGrants } from './api-compile.js';
import type { ApiDecision } from './api-match.js';
import { allowRules, type ResolvedApiMatchOptions, type RouterRules } from './api-options.js';
import { allowSegments as allowKeys, foldedSegments, normalizeApiTarget, type ApiPath, type ApiTargetProblem } from './api-path.js';
import { PatternTrie } from './api-trie.js';
import type { ConditionCheck } from './decide.js';
import { findCondition, withNotes, type ExplainedGrant } from './explain.js';
import type { GrantIndex } from './grants.js';
import type { Grant } from './normalize-grant.js';

/** An API-mode decision with every grant considered. */
export interface ApiExplanation {
  readonly allowed: boolean;
  /** As {@link ApiDecision}, or `public`: the path is one of `publicPaths` (let through without a token). */
  readonly reason: ApiDecision['reason'] | 'public';
  /** The method, upper-cased. */
  readonly method: string;
  /** The action the method maps to, or null. */
  readonly action: string | null;
  /** The canonical path; empty for an invalid target. */
  readonly path: string;
  /** Why the target was rejected (400), with `invalid_target`. */
  readonly problem?: ApiTargetProblem;
  /** The grant that decided. */
  readonly grant?: Grant;
  /** Every grant of the user, in their order, and what each did. */
  readonly grants: readonly ExplainedGrant[];
}

/** What {@link explainApiDecision} needs beside the grants: the matcher's options and the router's rules. */
export interface ExplainApiOptions {
  readonly options: ResolvedApiMatchOptions;
  /** The router's rules; default `options.router`. */
  readonly router?: RouterRules | undefined;
  readonly conditions?: ConditionCheck | undefined;
  /** Whether the canonical path is a public path (API mode's `publicPaths`); checked after the target is read. */
  readonly isPublic?: ((path: ApiPath, router?: RouterRules) => boolean) | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const NO_CONDITIONS: ConditionCheck = () => undefined;

function grantList(grants: ApiGrants): readonly Grant[] {
  return Array.isArray(grants) ? (grants as readonly Grant[]) : (grants as GrantIndex).grants;
}

/** Whether one compiled pattern matches, through the very trie walk the matcher uses. */
function patternMatches(pattern: Parameters<PatternTrie<true>['insert']>[0], segments: readonly string[], trailingSlash: boolean, strict: boolean): boolean {
  const trie = new PatternTrie<true>();
  trie.insert(pattern, true);
  let found = false;
  trie.collect(segments, trailingSlash, strict, () => {
    found = true;
  });
  return found;
}

/**
 * Explains an API-mode decision for `method` and `target` (`/path?query`): the verdict the middleware
 * reaches (400 for a target it cannot read, public paths, DENY before ALLOW, lowest grant first), plus
 * each grant and what it did.
 */
export function explainApiDecision(grants: ApiGrants, method: string, target: string, input: ExplainApiOptions): ApiExplanation {
  const { options } = input;
  const router = input.router ?? options.router;
  const upper = typeof method === 'string' ? method.toUpperCase() : '';
  const action = options.methodActions.get(upper) ?? null;
  const list = grantList(grants);
  const normalized = normalizeApiTarget(target);
  if (!normalized.ok) return { allowed: false, reason: 'invalid_target', method: upper, action, path: '', problem: normalized.problem, grants: [] };
  const path: ApiPath = normalized;
  if (input.isPublic?.(path, router) === true) return { allowed: true, reason: 'public', method: upper, action, path: path.path, grants: [] };
  if (action === null) {
    const grantsSeen = list.map((grant) => withNotes({ grant, outcome: 'method_unmapped', decisive: false, actions: [] }));
    return { allowed: false, reason: 'unmapped_method', method: upper, action, path: path.path, grants: grantsSeen };
  }

  const rules = allowRules(options, router);
  const check = input.conditions ?? NO_CONDITIONS;
  const denySegments = foldedSegments(path, 'unicode');
  const allowSegments = allowKeys(path, rules.fold);
  // Per grant, in list order: how far it got. `held` is set for those that matched path and action.
  const seen = list.map((grant): Mutable<ExplainedGrant> => {
    const explained: Mutable<ExplainedGrant> = { grant, outcome: 'not_api', decisive: false, actions: [] };
    const deny = grant.effect === 'DENY';
    // As the matcher compiles it: a typo in a DENY never opens anything (it covers the subtree above
    // its first bad segment); an unreadable ALLOW, or one of another origin, takes no part.
    const compiled = grantPattern(grant, rules.fold, options.apiOrigin);
    const { pattern } = compiled;
    if (pattern === undefined) {
      if ('skipped' in compiled) explained.outcome = compiled.skipped;
      return explained;
    }
    if (compiled.widened) explained.widened = true;
    const matches = deny
      ? patternMatches(pattern, denySegments, path.trailingSlash, false)
      : patternMatches(pattern, allowSegments, path.trailingSlash, rules.strict);
    if (!matches) {
      explained.outcome = 'pattern_mismatch';
      return explained;
    }
    if (!grantCoversAction(grant, action)) {
      explained.outcome = 'action_mismatch';
      return explained;
    }
    explained.actions = [action];
    const held = grant.conditions.length === 0 ? true : check(grant);
    if (held !== true) {
      const finding = findCondition(grant, check, held);
      if (finding !== undefined) explained.condition = finding;
    }
    if (deny) explained.outcome = held === false ? 'condition_false' : 'applies';
    else explained.outcome = held === true ? 'applies' : held === false ? 'condition_false' : 'condition_unevaluable';
    return explained;
  });

  // As the matcher: the lowest applying DENY decides; else the lowest applying ALLOW.
  const deny = seen.find((explained) => explained.grant.effect === 'DENY' && explained.outcome === 'applies');
  const allow = seen.find((explained) => explained.grant.effect === 'ALLOW' && explained.outcome === 'applies');
  if (deny !== undefined) {
    deny.decisive = true;
    for (const explained of seen) {
      if (explained.grant.effect === 'ALLOW' && explained.outcome === 'applies') {
        explained.outcome = 'overridden_by_deny';
        explained.overriddenBy = deny.grant;
      }
    }
  } else if (allow !== undefined) {
    allow.decisive = true;
  }
  const decided = deny ?? allow;
  const explanation: Mutable<ApiExplanation> = {
    allowed: deny === undefined && allow !== undefined,
    reason: deny !== undefined ? 'denied' : allow !== undefined ? 'allowed' : 'no_grant',
    method: upper,
    action,
    path: path.path,
    grants: seen.map(withNotes),
  };
  if (decided !== undefined) explanation.grant = decided.grant;
  return explanation;
}
