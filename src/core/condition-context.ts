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
