import type { Dispatcher } from 'undici';
import { GenAuthApiError } from '../errors.js';
import { channels, tracing, type UpstreamEvent } from '../events.js';
import type { ResolvedGenAuthOptions, ResolvedOptions } from '../options/resolved.js';
import { createAuthHeaders } from './auth-headers.js';
import { RESOURCES_PATH, requestAuthorizedResources, type AuthorizedResourcesCall, type AuthorizedResourcesQuery } from './authorized-resources.js';
import { Deadline } from './deadline.js';
import { parseRetryAfter } from './envelope.js';
import { exchange } from './exchange.js';
import { publishRetryRefused, traceLoad } from './load-events.js';
import { createManagementTokens, type UpstreamAnswer } from './management-token.js';
import { createRetryBudget } from './retry-budget.js';
import { createRetrying } from './retries.js';
import type { AuthorizedResource } from './types.js';
import { createOperatorWarnings } from './warnings.js';
import { loadPool } from './undici-pool.js';

export type { AuthorizedResourcesQuery } from './authorized-resources.js';

/** The slice of the V3 management API the guard needs. */
export interface GenAuthClient {
  getUserAuthorizedResources(query: AuthorizedResourcesQuery): Promise<AuthorizedResource[]>;
  /** Under the token scheme, fetches the management token (rejects with a GenAuthApiError); else resolves. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** What the client needs besides its `genauth` options: where warnings go, and its two clocks. */
export type ClientSettings = Pick<ResolvedOptions, 'logger' | 'clock' | 'now'> & {
  /** Told every failed attempt (the guard's set-up problems); without it, refused credentials are warned about here. */
  failed?: (error: GenAuthApiError) => void;
};

function publishUpstream(outcome: string, started: number, attempt: number): void {
  if (!channels.upstream.hasSubscribers) return;
  channels.upstream.publish({ path: RESOURCES_PATH, outcome, durationMs: performance.now() - started, attempt } satisfies UpstreamEvent);
}

/**
 * A V3 client over one pooled undici dispatcher with keep-alive. Authenticates with the management
 * token (management-token.ts) or a signature (auth-headers.ts); every call has an overall deadline
 * and is retried as retries.ts says.
 */
export function createGenAuthClient(config: ResolvedGenAuthOptions, settings: ClientSettings): GenAuthClient {
  const { clock, now } = settings;
  // The own Pool is made on the first call: loading undici's Pool may take a dynamic import (undici-pool.ts).
  let ownPool: Promise<Dispatcher> | undefined;
  const makePool = async (): Promise<Dispatcher> =>
    new (await loadPool())(config.host, {
      connections: config.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: config.timeout,
      bodyTimeout: config.timeout,
    });
  let closed = false;
  let closing: Promise<void> | undefined;

  async function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, deadline: Deadline, body: string | null): Promise<UpstreamAnswer> {
    if (closed) throw new GenAuthApiError('closed');
    const dispatcher = config.dispatcher ?? (await (ownPool ??= makePool()));
    // Closed while the Pool was being made: nothing may be sent on it.
    if (closed) throw new GenAuthApiError('closed');
    // origin + path: no URL parsing per call; works with the own Pool and with an injected Agent.
    const answer = await exchange(dispatcher, { origin: config.host, path, method, headers, body }, config.maxResponseBytes, deadline);
    // Capped here, once for every use: the wait before a retry, the client-wide back-off after a 429
    // (retries.ts) and the Retry-After of the 503 the guard answers with (grant-store.ts).
    const retryAfter = parseRetryAfter(answer.headers['retry-after'], now());
    return { status: answer.status, text: answer.text, retryAfter: retryAfter === undefined ? undefined : Math.min(retryAfter, config.maxRetryAfter) };
  }

  const warnings = createOperatorWarnings(settings.logger, clock);
  function failed(error: GenAuthApiError): void {
    if (settings.failed !== undefined) settings.failed(error);
    else if (error.kind === 'credentials') warnings.credentials(error);
  }
  const tokens = createManagementTokens({
    userPoolId: config.userPoolId,
    accessKeyId: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    timeout: config.timeout,
    clock,
    post: (path, body, deadline) => send('POST', path, { 'content-type': 'application/json', accept: 'application/json' }, deadline, body),
    // The old token still serves; a refresh refused for the credentials is still told to the operator.
    refreshFailed: (error) => {
      if (error instanceof GenAuthApiError) failed(error);
    },
  });
  const resources: AuthorizedResourcesCall = {
    get: (path, headers, deadline) => send('GET', path, headers, deadline, null),
    headers: createAuthHeaders(config, tokens, now),
    tokens: config.authScheme === 'token' ? tokens : undefined,
    acceptPartialLists: config.acceptPartialLists,
    partialList: warnings.partialList,
  };
  const retrying = createRetrying({
    retries: config.retries,
    timeout: config.timeout,
    budget: createRetryBudget({ ...config.retryBudget, clock }),
    clock,
    attempted: publishUpstream,
    run: (attempt, call) => (tracing.load.hasSubscribers ? traceLoad(attempt, call, clock) : call()),
    refused: publishRetryRefused,
    failed,
  });

  return {
    getUserAuthorizedResources: (query) => retrying((deadline) => requestAuthorizedResources(resources, query, deadline)),
    async ready() {
      if (config.authScheme !== 'token') return;
      const deadline = new Deadline(config.timeout, clock);
      try {
        await tokens.get(deadline);
      } catch (error) {
        if (error instanceof GenAuthApiError) settings.failed?.(error);
        throw error;
      } finally {
        deadline.clear();
      }
    },
    // Idempotent: a second close (a framework's shutdown hook after the user's own) resolves too.
    close() {
      closing ??= (async () => {
        closed = true;
        if (ownPool !== undefined) await (await ownPool).close();
      })();
      return closing;
    },
  };
}
