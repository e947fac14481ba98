import { Pool, type Dispatcher } from 'undici';
import { GenAuthApiError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { missingFromList, parseRetryAfter, readEnvelope } from './envelope.js';
import { exchange } from './exchange.js';
import { Deadline } from './deadline.js';
import { createRetryBudget } from './retry-budget.js';
import { signatureNonce, signRequest } from './signature.js';
import { channels, type UpstreamEvent } from '../events.js';
import type { AuthorizedResource, AuthorizedResourceList, ResourceType, UserIdType } from './types.js';

const TOKEN_PATH = '/api/v3/get-management-token';
const RESOURCES_PATH = '/api/v3/get-user-authorized-resources';
const SDK_VERSION = 'genauth-guard:0.1.0';
const RETRY_BASE_MS = 50;
/** Operator warnings repeat at most this often (ms), not once per request. */
const WARNING_INTERVAL_MS = 60_000;

/** True at most once per `intervalMs` of `now`. */
function throttle(now: () => number, intervalMs: number): () => boolean {
  let last = -Infinity;
  return () => {
    const at = now();
    if (at - last < intervalMs) return false;
    last = at;
    return true;
  };
}

/** 5xx (HTTP or body), 429 and connection errors are retried; everything else is final. */
function retryable(error: GenAuthApiError): boolean {
  switch (error.kind) {
    case 'network':
    case 'rate_limited':
      return true;
    case 'http_status':
      return (error.httpStatus ?? 0) >= 500;
    case 'error_envelope':
      return (error.envelopeStatus ?? 0) >= 500;
    default:
      return false;
  }
}

/** Failures that look like an outage or overload, and so spend retry budget. */
function outageLike(error: GenAuthApiError): boolean {
  return error.kind === 'timeout' || retryable(error);
}

function publishUpstream(outcome: string, started: number, attempt: number): void {
  if (!channels.upstream.hasSubscribers) return;
  channels.upstream.publish({ path: RESOURCES_PATH, outcome, durationMs: performance.now() - started, attempt } satisfies UpstreamEvent);
}

/** A back-off pause that ends early, rejecting, when the call's deadline passes. */
function sleep(ms: number, deadline: Deadline): Promise<void> {
  return new Promise((resolve, reject) => {
    const waiter = {
      expire() {
        clearTimeout(timer);
        reject(new GenAuthApiError('timeout'));
      },
    };
    const timer = setTimeout(() => {
      deadline.unwatch(waiter);
      resolve();
    }, ms);
    deadline.watch(waiter);
  });
}

export interface AuthorizedResourcesQuery {
  userId: string;
  userIdType: UserIdType;
  namespace: string;
  resourceType?: ResourceType | undefined;
}

/** The slice of the V3 management API the guard needs. */
export interface GenAuthClient {
  getUserAuthorizedResources(query: AuthorizedResourcesQuery): Promise<AuthorizedResource[]>;
  close(): Promise<void>;
}

interface ManagementToken {
  value: string;
  refreshAt: number;
}

/**
 * A V3 client over one pooled undici dispatcher with keep-alive. Authenticates with the management
 * token (fetched once, refreshed early, single-flight). Every call has an overall deadline.
 */
export function createGenAuthClient(options: ResolvedOptions): GenAuthClient {
  const config = options.genauth;
  const ownPool = config.dispatcher === undefined;
  const dispatcher: Dispatcher =
    config.dispatcher ??
    new Pool(config.host, {
      connections: config.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: config.timeout,
      bodyTimeout: config.timeout,
    });
  let token: ManagementToken | undefined;
  let tokenRequest: Promise<ManagementToken> | undefined;
  let closed = false;
  // After a 429, no call is made until this time (ms): the whole pool backs off, not just one user.
  let backoffUntil = 0;
  // Shared by every user's loads: an outage stops retries instead of tripling the calls it gets.
  const budget = createRetryBudget({ ...config.retryBudget, now: options.now });

  async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, deadline: Deadline, body?: string) {
    if (closed) throw new GenAuthApiError('closed');
    // origin + path: no URL parsing per call; works with the own Pool and with an injected Agent.
    const answer = await exchange(dispatcher, { origin: config.host, path, method, headers, body: body ?? null }, config.maxResponseBytes, deadline);
    const retryAfter = parseRetryAfter(answer.headers['retry-after'], options.now());
    return { status: answer.status, text: answer.text, retryAfter };
  }

  async function fetchToken(deadline: Deadline): Promise<ManagementToken> {
    const body = JSON.stringify({ accessKeyId: config.accessKeyId, accessKeySecret: config.accessKeySecret });
    const answer = await call('POST', TOKEN_PATH, { 'content-type': 'application/json', accept: 'application/json' }, deadline, body);
    const { data } = readEnvelope<{ access_token?: unknown; expires_in?: unknown }>(answer.status, answer.text, answer.retryAfter);
    if (typeof data.access_token !== 'string' || data.access_token === '') throw new GenAuthApiError('bad_envelope');
    const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 7200;
    // Refresh a minute early (or at 90% of a short lifetime) so no call races the expiry.
    const margin = Math.min(60, lifetime * 0.1);
    return { value: data.access_token, refreshAt: options.now() + (lifetime - margin) * 1000 };
  }

  function managementToken(deadline: Deadline): Promise<ManagementToken> {
    if (token !== undefined && options.now() < token.refreshAt) return Promise.resolve(token);
    // Single-flight: concurrent callers share one token request; its own deadline bounds it.
    if (tokenRequest === undefined) {
      const own = new Deadline(config.timeout);
      tokenRequest = fetchToken(own)
        .then((fresh) => {
          token = fresh;
          return fresh;
        })
        .finally(() => {
          own.clear();
          tokenRequest = undefined;
        });
    }
    return withDeadline(tokenRequest, deadline);
  }

  const tenantHeaders: Record<string, string> =
    config.tenantId === undefined ? {} : { [config.tenantHeader]: config.tenantId };

  /** Headers of one attempt: a management token, or a fresh signature (new nonce and date per attempt). */
  const baseHeaders: Record<string, string> = { accept: 'application/json', [`${config.headerPrefix}userpool-id`]: config.userPoolId, ...tenantHeaders };
  // The headers of the current management token, built once per token rather than once per call.
  let tokenHeaders: { token: ManagementToken; headers: Record<string, string> } | undefined;

  async function authHeaders(deadline: Deadline, path: string, data: Record<string, string>): Promise<Record<string, string>> {
    if (config.authScheme === 'signature') {
      // Every `<prefix>*` header sent is part of the signed string, and the access key names the pool:
      // like the Node SDK, send no pool header here (an unsigned one breaks the signature).
      return {
        accept: 'application/json',
        ...signRequest({
          method: 'GET',
          path,
          data,
          accessKeyId: config.accessKeyId,
          accessKeySecret: config.accessKeySecret,
          headerPrefix: config.headerPrefix,
          scheme: config.signatureScheme,
          sdkVersion: SDK_VERSION,
          date: new Date(options.now()).toUTCString(),
          nonce: signatureNonce(),
          extraHeaders: tenantHeaders,
        }),
      };
    }
    const current = await managementToken(deadline);
    if (tokenHeaders?.token !== current) tokenHeaders = { token: current, headers: { ...baseHeaders, authorization: `Bearer ${current.value}` } };
    return tokenHeaders.headers;
  }

  /** One request, with one fresh management token if a cached one was refused. */
  async function attempt(path: string, query: string, data: Record<string, string>, deadline: Deadline): Promise<AuthorizedResource[]> {
    for (let refreshed = false; ; refreshed = true) {
      const usedToken = token;
      const answer = await call('GET', `${path}?${query}`, await authHeaders(deadline, path, data), deadline);
      try {
        const { data: body } = readEnvelope<AuthorizedResourceList>(answer.status, answer.text, answer.retryAfter);
        // GenAuth's own documented example shows `list` as one object: read it as a list of one.
        const one: unknown = body.list;
        if (typeof one === 'object' && one !== null && !Array.isArray(one)) return [one as AuthorizedResource];
        if (!Array.isArray(body.list)) throw new GenAuthApiError('bad_envelope');
        return complete(body.list, body.totalCount);
      } catch (error) {
        const refused = error instanceof GenAuthApiError && error.kind === 'credentials';
        // A cached management token may have been revoked: fetch a new one once, then give up.
        if (refused && !refreshed && config.authScheme === 'token' && usedToken !== undefined && token === usedToken) {
          token = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  const partialListWarning = throttle(options.now, WARNING_INTERVAL_MS);
  /** The list, unless its `totalCount` says grants were left out, one of which may be a DENY. */
  function complete(list: AuthorizedResource[], totalCount: unknown): AuthorizedResource[] {
    const total = missingFromList(list.length, totalCount);
    if (total === undefined || config.acceptPartialLists) return list;
    if (options.logger !== false && partialListWarning()) {
      options.logger.warn(
        `genauth-guard: GenAuth sent a partial permission list (${list.length} of totalCount ${total}); a DENY may be missing, ` +
          'so such users are answered 503. Set genauth.acceptPartialLists: true to use partial lists as sent.',
      );
    }
    throw new GenAuthApiError('partial_list');
  }

  const credentialWarning = throttle(Date.now, WARNING_INTERVAL_MS);
  function warnCredentials(error: GenAuthApiError): void {
    if (!credentialWarning() || options.logger === false) return;
    options.logger.warn(
      `genauth-guard: GenAuth refused the management credentials (statusCode ${String(error.envelopeStatus)}, apiCode ${String(error.apiCode)}); ` +
        'check genauth.userPoolId, accessKeyId, accessKeySecret, host and headerPrefix. Requests are answered 503 until this is fixed.',
    );
  }

  async function getUserAuthorizedResources(query: AuthorizedResourcesQuery): Promise<AuthorizedResource[]> {
    if (Date.now() < backoffUntil) {
      throw new GenAuthApiError('rate_limited', { retryAfter: Math.ceil((backoffUntil - Date.now()) / 1000) });
    }
    const deadline = new Deadline(config.timeout);
    try {
      return await callWithRetries(query, deadline);
    } finally {
      deadline.clear();
    }
  }

  async function callWithRetries(query: AuthorizedResourcesQuery, deadline: Deadline): Promise<AuthorizedResource[]> {
    const data: Record<string, string> = { userId: query.userId, userIdType: query.userIdType, namespace: query.namespace };
    if (query.resourceType !== undefined) data.resourceType = query.resourceType;
    const queryString = new URLSearchParams(data).toString();
    for (let retry = 0; ; retry++) {
      const started = performance.now();
      try {
        const list = await attempt(RESOURCES_PATH, queryString, data, deadline);
        budget.answered();
        publishUpstream('ok', started, retry);
        return list;
      } catch (error) {
        publishUpstream(error instanceof GenAuthApiError ? error.kind : 'error', started, retry);
        if (!(error instanceof GenAuthApiError)) throw error;
        if (outageLike(error)) budget.failed();
        else if (error.kind !== 'closed') budget.answered();
        if (error.kind === 'credentials') warnCredentials(error);
        if (error.kind === 'rate_limited') backoffUntil = Date.now() + (error.retryAfter ?? 1) * 1000;
        const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : RETRY_BASE_MS * 2 ** retry * (1 + Math.random());
        // Retries stay inside the overall deadline: a Retry-After beyond it ends the call now.
        if (retry >= config.retries || !retryable(error) || Date.now() + wait >= deadline.at || !budget.canRetry()) throw error;
        await sleep(wait, deadline).catch(() => {
          throw new GenAuthApiError('timeout', { cause: error });
        });
        backoffUntil = 0;
      }
    }
  }

  return {
    getUserAuthorizedResources,
    async close() {
      closed = true;
      if (ownPool) await dispatcher.close();
    },
  };
}

/** Rejects with a timeout error when `deadline` passes before `promise` settles. */
function withDeadline<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  if (deadline.expired) return Promise.reject(new GenAuthApiError('timeout'));
  return new Promise<T>((resolve, reject) => {
    const waiter = { expire: () => reject(new GenAuthApiError('timeout')) };
    deadline.watch(waiter);
    promise.then(
      (value) => {
        deadline.unwatch(waiter);
        resolve(value);
      },
      (error: unknown) => {
        deadline.unwatch(waiter);
        reject(error);
      },
    );
  });
}
