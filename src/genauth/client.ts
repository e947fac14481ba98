import { Pool, request, type Dispatcher } from 'undici';
import { GenAuthApiError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { parseRetryAfter, readEnvelope } from './envelope.js';
import type { AuthorizedResource, AuthorizedResourceList, ResourceType, UserIdType } from './types.js';

const TOKEN_PATH = '/api/v3/get-management-token';
const RESOURCES_PATH = '/api/v3/get-user-authorized-resources';

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

  async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, signal: AbortSignal, body?: string) {
    if (closed) throw new GenAuthApiError('closed');
    let response: Dispatcher.ResponseData;
    try {
      response = await request(config.host + path, { method, headers, body, signal, dispatcher });
    } catch (cause) {
      throw new GenAuthApiError(signal.aborted ? 'timeout' : 'network', { cause });
    }
    const declared = Number(response.headers['content-length']);
    if (declared > config.maxResponseBytes) {
      response.body.destroy();
      throw new GenAuthApiError('too_large', { httpStatus: response.statusCode });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > config.maxResponseBytes) {
          response.body.destroy();
          throw new GenAuthApiError('too_large', { httpStatus: response.statusCode });
        }
        chunks.push(chunk);
      }
    } catch (cause) {
      if (cause instanceof GenAuthApiError) throw cause;
      throw new GenAuthApiError(signal.aborted ? 'timeout' : 'network', { cause });
    }
    const retryAfter = parseRetryAfter(response.headers['retry-after'], options.now());
    return { status: response.statusCode, text: Buffer.concat(chunks).toString('utf8'), retryAfter };
  }

  async function fetchToken(signal: AbortSignal): Promise<ManagementToken> {
    const body = JSON.stringify({ accessKeyId: config.accessKeyId, accessKeySecret: config.accessKeySecret });
    const answer = await call('POST', TOKEN_PATH, { 'content-type': 'application/json', accept: 'application/json' }, signal, body);
    const { data } = readEnvelope<{ access_token?: unknown; expires_in?: unknown }>(answer.status, answer.text, answer.retryAfter);
    if (typeof data.access_token !== 'string' || data.access_token === '') throw new GenAuthApiError('bad_envelope');
    const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 7200;
    // Refresh a minute early (or at 90% of a short lifetime) so no call races the expiry.
    const margin = Math.min(60, lifetime * 0.1);
    return { value: data.access_token, refreshAt: options.now() + (lifetime - margin) * 1000 };
  }

  function managementToken(signal: AbortSignal): Promise<ManagementToken> {
    if (token !== undefined && options.now() < token.refreshAt) return Promise.resolve(token);
    // Single-flight: concurrent callers share one token request; its own deadline bounds it.
    tokenRequest ??= fetchToken(AbortSignal.timeout(config.timeout))
      .then((fresh) => {
        token = fresh;
        return fresh;
      })
      .finally(() => {
        tokenRequest = undefined;
      });
    return withDeadline(tokenRequest, signal);
  }

  function headersFor(value: string): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${value}`,
      [`${config.headerPrefix}userpool-id`]: config.userPoolId,
    };
    if (config.tenantId !== undefined) headers[config.tenantHeader] = config.tenantId;
    return headers;
  }

  async function getUserAuthorizedResources(query: AuthorizedResourcesQuery): Promise<AuthorizedResource[]> {
    const signal = AbortSignal.timeout(config.timeout);
    const params = new URLSearchParams({ userId: query.userId, userIdType: query.userIdType, namespace: query.namespace });
    if (query.resourceType !== undefined) params.set('resourceType', query.resourceType);
    const path = `${RESOURCES_PATH}?${params.toString()}`;
    let current = await managementToken(signal);
    for (let attempt = 0; ; attempt++) {
      const answer = await call('GET', path, headersFor(current.value), signal);
      try {
        const { data } = readEnvelope<AuthorizedResourceList>(answer.status, answer.text, answer.retryAfter);
        if (!Array.isArray(data.list)) throw new GenAuthApiError('bad_envelope');
        return data.list;
      } catch (error) {
        // A cached management token may have been revoked: fetch a new one once, then give up.
        if (attempt === 0 && error instanceof GenAuthApiError && error.kind === 'credentials' && token === current) {
          token = undefined;
          current = await managementToken(signal);
          continue;
        }
        throw error;
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

/** Rejects with a timeout error when `signal` fires before `promise` settles. */
function withDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new GenAuthApiError('timeout'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new GenAuthApiError('timeout'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
