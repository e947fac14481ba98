import type { ResolvedOptions } from '../options.js';
import type { ConditionContext } from '../policy/conditions.js';
import type { RequestLike } from '../request.js';

/**
 * The source IP: the socket's peer, or, when `trustProxy` hops are configured, the address that many
 * hops from the right of `X-Forwarded-For` (never a client-chosen left-most entry). A chain shorter
 * than that gives none: the peer is then one of the proxies (often an internal address, which an
 * "internal network only" condition would admit), or the request did not come through them.
 */
export function sourceIp(request: RequestLike, trustProxy: number): string | undefined {
  if (trustProxy <= 0) return request.remoteAddress;
  const header = request.headers['x-forwarded-for'];
  const chain = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // The last `trustProxy` entries were added by our proxies; the one before them is the client they saw.
  const index = chain.length - trustProxy;
  return index >= 0 ? chain[index] : undefined;
}

/** Context keys the guard fills for policy conditions. */
export function baseConditionContext(options: ResolvedOptions, userId: string, request: RequestLike | undefined): Record<string, unknown> {
  const now = options.now();
  const context: Record<string, unknown> = {
    CurrentTime: new Date(now),
    EpochTime: Math.floor(now / 1000),
    UserId: userId,
    UserPoolId: options.genauth.userPoolId,
    Namespace: options.genauth.namespace,
  };
  if (request !== undefined) {
    context.SourceIp = sourceIp(request, options.conditions.trustProxy);
    const agent = request.headers['user-agent'];
    if (typeof agent === 'string') context.UserAgent = agent;
    const referer = request.headers.referer;
    if (typeof referer === 'string') context.Referer = referer;
  }
  return context;
}

export type { ConditionContext };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * What `conditions.context` answered, waiting at most `ms` (real time, like the timer that ends a slow
 * GenAuth call) for a promise: one timer per such call, cleared when it settles; none for a plain
 * object. Rejects when the promise rejects or has not settled in time; a late answer is ignored (and a
 * late rejection handled). A hook that never settled held its request, and its condition context,
 * forever.
 */
export function settleWithin<T>(answer: T | PromiseLike<T>, ms: number): T | Promise<T> {
  if (!isThenable(answer)) return answer;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`genauth-guard: conditions.context did not settle within ${ms} ms (conditions.timeoutDuration)`)), ms);
    // The request it bounds holds the process open; the timer alone does not (see docs/readiness.md).
    timer.unref?.();
    Promise.resolve(answer).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
