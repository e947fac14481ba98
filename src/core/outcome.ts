/**
 * What a decision's observers (the decision channel and trace, `onDecision`) are told: the decision, or,
 * for a request whose user was revoked while it waited, its refusal as `revoked`. The answer is then the
 * 401 `revoked`, whatever the grants reloaded for it said, and no observer may say otherwise.
 */
import type { ApiDecision } from '../policy/api-match.js';
import type { Decision } from '../policy/decide.js';

/** A decision overturned by a revocation made while it waited: refused, reason `revoked`, no grant. */
export type Revoked<T extends Decision | ApiDecision> = Omit<T, 'allowed' | 'reason' | 'grant'> & {
  readonly allowed: false;
  readonly reason: 'revoked';
  readonly grant?: undefined;
};

/** Anything an observer is told. */
export type Outcome = Decision | ApiDecision | Revoked<Decision> | Revoked<ApiDecision>;

/** The decision refused as revoked: what was asked (resource, actions, method) stays, the verdict goes. Frozen, like every decision. */
export function revokedDecision<T extends Decision | ApiDecision>(decision: T): Revoked<T> {
  const { grant: _grant, ...asked } = decision;
  return Object.freeze({ ...asked, allowed: false, reason: 'revoked' }) as unknown as Revoked<T>;
}
