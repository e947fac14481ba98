/**
 * `guard.ready()`: fetches now what the first requests would otherwise wait on (the discovery document
 * and the key set, the management token, a Redis answer, the warmed users' grants), so a deployment can
 * hold traffic until the guard can answer, and learn at start, in words, what is misconfigured.
 */
import { genauthProblem, keySourceProblem, redisProblem, refusedAsNonMember, refusedUserProblem, upstreamStatus, type SetupProblem, type SetupProblems } from './setup-problems.js';

/** One reason `ready()` rejected: the option to check and why (never a secret, token or upstream text). */
export type ReadinessReason = SetupProblem;

/**
 * What `guard.ready()` rejects with: every step that failed, each naming the option to check.
 * `code` is `ERR_GUARD_NOT_READY`.
 */
export class GuardNotReadyError extends Error {
  readonly code = 'ERR_GUARD_NOT_READY';
  /** Each failed step, in the order key source, GenAuth, Redis, warm-up. */
  readonly reasons: readonly ReadinessReason[];
  constructor(reasons: readonly ReadinessReason[]) {
    super(`genauth-guard: not ready: ${reasons.map((reason) => (reason.option === '' ? reason.cause : `${reason.cause} (check option "${reason.option}")`)).join('; ')}`);
    this.name = 'GuardNotReadyError';
    this.reasons = Object.freeze([...reasons]);
  }
}

/** The steps of one guard's readiness; each rejects with what failed. */
export interface ReadinessSteps {
  /** Fetches a remote key source; `keyOption` names the configured source (`jwt.jwksUri`, `jwt.issuer` under discovery, `jwt.publicKey`, `jwt.secret`). */
  loadKeys(): Promise<void>;
  keyOption: string;
  /** Fetches the management token under the token scheme. */
  loadManagementToken(): Promise<void>;
  /** A bounded Redis read, when `cache.redis` is set. */
  pingRedis: (() => Promise<void>) | undefined;
  /** Users whose grants are loaded (`warm.users`), and the load. */
  warmUsers: readonly string[];
  loadUser(userId: string): Promise<unknown>;
  /** `genauth.tenantId` is set: a warmed user GenAuth refuses as outside the tenant names it (else the user is named). */
  tenant: boolean;
  /** True once the guard was closed: it is not ready, whatever was fetched. */
  closed(): boolean;
}

/** Why a closed guard is not ready: nothing to configure, so no option. */
const CLOSED: SetupProblem = Object.freeze({ kind: 'closed', option: '', cause: 'the guard was closed (close()): it answers every request with a 503' });

/** Warm-up loads at most this many users at once (GenAuth rate-limits; the guard's own pool is small). */
const WARM_CONCURRENCY = 4;

/**
 * Why a user's grants could not be loaded: the GenAuth failure under the guard's 503. A warmed user is
 * one the operator expects to work, so one refused as disabled or outside the tenant points at the
 * tenant when one is set, else at that user (never at genauth.host: GenAuth answered).
 */
function warmProblem(error: unknown, tenant: boolean): SetupProblem {
  const upstream = (error as { cause?: unknown } | null)?.cause ?? error;
  const kind = (upstream as { kind?: unknown } | null)?.kind;
  if (refusedAsNonMember(upstream)) return refusedUserProblem('a warm.users user', tenant);
  return (
    genauthProblem(upstream) ?? {
      kind: 'upstream',
      option: 'genauth.host',
      ...upstreamStatus(upstream),
      cause: `warming users' grants failed (GenAuth ${typeof kind === 'string' ? kind : 'error'}): check genauth.host and GenAuth's status`,
    }
  );
}

/** Why the management token could not be fetched, when no set-up mistake explains it. */
function tokenProblem(error: unknown): SetupProblem {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return {
    kind: 'upstream',
    option: 'genauth.host',
    ...upstreamStatus(error),
    cause: `GenAuth gave no management token (${typeof kind === 'string' ? kind : 'error'}): check genauth.host and GenAuth's status`,
  };
}

async function warm(steps: ReadinessSteps): Promise<void> {
  const queue = [...steps.warmUsers];
  let failure: unknown;
  const worker = async () => {
    for (let user = queue.shift(); user !== undefined && failure === undefined; user = queue.shift()) {
      try {
        await steps.loadUser(user);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WARM_CONCURRENCY, queue.length) }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * `ready()` over `steps`: every step runs (in parallel); resolves when all succeed, else rejects with a
 * {@link GuardNotReadyError} of every failure (each also logged once through `problems`). Idempotent:
 * concurrent calls share one run, and after success every call resolves at once; after a failure the
 * next call tries again (the outage may be over). Once the guard is closed, every call (and a run it
 * interrupted) rejects with the one reason `closed`.
 */
export function createReadiness(steps: ReadinessSteps, problems: SetupProblems): () => Promise<void> {
  let running: Promise<void> | undefined;
  let done = false;

  async function run(): Promise<void> {
    const checks: Array<Promise<SetupProblem | undefined>> = [
      steps.loadKeys().then(noProblem, (error: unknown) => keySourceProblem(error, steps.keyOption)),
      steps.loadManagementToken().then(noProblem, (error: unknown) => genauthProblem(error) ?? tokenProblem(error)),
    ];
    if (steps.pingRedis !== undefined) checks.push(steps.pingRedis().then(noProblem, redisProblem));
    if (steps.warmUsers.length > 0) checks.push(warm(steps).then(noProblem, (error: unknown) => warmProblem(error, steps.tenant)));
    const reasons = (await Promise.all(checks)).filter((reason): reason is SetupProblem => reason !== undefined);
    // Closed while it ran: the steps it cut short are no set-up problem (and a success no readiness).
    if (steps.closed()) throw new GuardNotReadyError([CLOSED]);
    // Tokens refused on `iss`/`aud` while none has verified: the configured issuer or audience is likely wrong.
    reasons.push(...problems.claimProblems());
    // A wrong host fails the token and the warm-up alike: one reason per option and kind.
    const distinct = reasons.filter((reason, i) => reasons.findIndex((other) => other.option === reason.option && other.kind === reason.kind) === i);
    for (const reason of distinct) problems.report(reason);
    if (distinct.length > 0) throw new GuardNotReadyError(distinct);
  }

  return () => {
    if (steps.closed()) return Promise.reject(new GuardNotReadyError([CLOSED]));
    if (done) return Promise.resolve();
    running ??= run().then(
      () => {
        done = true;
      },
      (error: unknown) => {
        running = undefined;
        throw error;
      },
    );
    return running;
  };
}

const noProblem = (): undefined => undefined;
