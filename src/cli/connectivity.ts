/**
 * check-config's connectivity: `guard.ready()` on a guard built from the options (the key source, the
 * management token under the token scheme, Redis with `cache.redis`, `warm.users`), and under the
 * signature scheme, which fetches no token, the signed loads of `warm.users` or else one signed call
 * for an unknown user ("user not found" is taken as the credentials accepted). Its apiCode 2120008 is
 * not: GenAuth does not document whether it checks the signature before it looks up the user. Problems
 * are ready()'s own: the option to check and why, never a secret or upstream text.
 */
import { createGuard } from '../core/guard.js';
import { GuardNotReadyError, type ReadinessReason } from '../core/readiness.js';
import { genauthProblem, isOutage, isOutageStatus, refusedAsNonMember, unverifiedCredentialsProblem, upstreamStatus } from '../core/setup-problems.js';
import { GenAuthApiError } from '../errors.js';
import type { GuardOptions } from '../options/types.js';
import { shownUrl, type Io } from './io.js';

/** One problem found, as `--json` prints it. */
export interface ConnectivityProblem extends ReadinessReason {
  /** An outage (unreachable, timeout, 5xx, 429): worth a retry, exit code 3. Otherwise a mistake to fix, 1. */
  transient: boolean;
}

/** A user id no tenant holds: GenAuth answers "user not found", which it says only to valid credentials. */
const PROBE_USER = 'genauth-guard-check-config-probe';

/** The status the key source answers now (for a reason that carries none), or undefined. */
async function keySourceStatus(options: GuardOptions, option: string): Promise<number | undefined> {
  const { jwt } = options;
  if (jwt === undefined) return undefined;
  const url = option === 'jwt.jwksUri' ? jwt.jwksUri : `${(jwt.issuer ?? '').replace(/\/+$/, '')}/.well-known/openid-configuration`;
  try {
    const response = await fetch(url as string, { signal: AbortSignal.timeout(jwt.jwks?.timeoutDuration ?? 3000), redirect: 'manual' });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

/**
 * Whether a problem is an outage rather than a mistake: {@link isOutage}, explain's rule too. A key
 * source's status problem without its status is asked again here (the key source answers it now).
 */
async function isTransient(problem: ReadinessReason, options: GuardOptions): Promise<boolean> {
  if (problem.kind === 'key_source_status' && problem.status === undefined) {
    const status = await keySourceStatus(options, problem.option);
    return status !== undefined && isOutageStatus(status);
  }
  return isOutage(problem);
}

/** The GenAuthApiError under a guard's refusal. */
function upstreamOf(error: unknown): GenAuthApiError | undefined {
  for (let current = error, depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof GenAuthApiError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The signature scheme's check: one signed call. */
async function signedCall(guard: ReturnType<typeof createGuard>, tenant: boolean): Promise<ReadinessReason | undefined> {
  try {
    await guard.check({ userId: PROBE_USER, resource: 'genauth-guard:check-config', action: 'genauth-guard:Probe' });
    return undefined;
  } catch (error) {
    const upstream = upstreamOf(error);
    if (upstream === undefined) throw error;
    if (refusedAsNonMember(upstream)) return unverifiedCredentialsProblem(tenant);
    return genauthProblem(upstream) ?? { kind: 'upstream', option: 'genauth.host', ...upstreamStatus(upstream), cause: `a signed call to GenAuth failed (${upstream.kind}${upstream.httpStatus === undefined ? '' : `, HTTP ${upstream.httpStatus}`}): check GenAuth's status` };
  }
}

/** Checks what the guard needs at start; resolves the problems found (none: ready). The options are valid. */
export async function checkConnectivity(options: GuardOptions, io: Io): Promise<ConnectivityProblem[]> {
  // The problems are printed once, by the CLI: the guard logs nothing and reports no decision.
  const guard = createGuard({ ...options, logger: false, onDecision: undefined });
  const problems: ReadinessReason[] = [];
  try {
    io.progress(`calling guard.ready(): the key source, GenAuth at ${shownUrl(options.genauth.host ?? 'https://api.genauth.ai')}${options.cache !== false && options.cache?.redis !== undefined ? ', Redis' : ''}`);
    try {
      await guard.ready();
    } catch (error) {
      if (!(error instanceof GuardNotReadyError)) throw error;
      problems.push(...error.reasons);
    }
    // warm.users loads are signed calls for real users (ready() reported any failure): no made-up user is needed.
    const warmed = (options.warm?.users.length ?? 0) > 0;
    if (options.genauth.authScheme === 'signature' && !warmed && !problems.some((p) => p.option.startsWith('genauth.'))) {
      io.progress('making one signed call to GenAuth (the signature scheme fetches no token)');
      const problem = await signedCall(guard, options.genauth.tenantId !== undefined);
      if (problem !== undefined) problems.push(problem);
    }
  } finally {
    await guard.close();
  }
  return Promise.all(problems.map(async (problem) => ({ ...problem, transient: await isTransient(problem, options) })));
}
