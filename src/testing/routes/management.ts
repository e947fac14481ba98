import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth.js';
import { TOO_LARGE, declaresJson, readJson } from '../http.js';
import { NOT_A_MEMBER, TenantError, type TenantStore } from '../store.js';
import { requestTenant } from '../tenant-header.js';
import type { Body, EmulatorCall, WebhookSubscription } from '../types.js';
import { RESOURCE_TYPES, type UserIdType } from '../../wire.js';

/** The V3 management API routes of the emulator (`/api/v3/*`), authenticated by token or signature. */

/** One request as the routes see it. */
export interface ApiRequest {
  req: IncomingMessage;
  call: EmulatorCall;
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | string[]>>;
  /** Whether the signature nonce had been seen before (from the arrival bookkeeping). */
  replayed: boolean;
}

export interface ManagementDeps {
  store: TenantStore;
  auth: Authenticator;
  unknownUser: 'not-found' | 'empty';
  /** Whether `get-user-authorized-resources` lists DENY rows (undocumented, so an option). */
  deniedRows: 'served' | 'omitted';
  /** Headers read as the call's tenant (lower case). */
  tenantHeaders: readonly string[];
  /** Body statusCode of apiCode 2120008 (not a member of the tenant). */
  nonMemberStatusCode: number;
  /** `create-webhook`: subscribes, or throws a TypeError for a bad subscription. */
  addWebhook: (subscription: WebhookSubscription) => void;
}

type Handler = (input: { query: ApiRequest['query']; body: Record<string, unknown>; tenant: string | undefined }) => Body | Promise<Body>;

const text = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
const ok = (data: unknown): Body => ({ statusCode: 200, message: '', data });
const page = <T>(list: T[]): Body => ok({ totalCount: list.length, list });

/** `userIdType` values of the spec (GENAUTH-PROTOCOL 3.1). */
const USER_ID_TYPES: ReadonlySet<string> = new Set<UserIdType>([
  'user_id', 'external_id', 'phone', 'email', 'username', 'identity', 'sync_relation', 'custom_field',
]);
const RESOURCE_TYPE_SET: ReadonlySet<string> = new Set(RESOURCE_TYPES);

/**
 * A query enum outside the spec's values: a body 400, as a validating server answers it (an absent or
 * empty value means "not given"). Without it a bad `resourceType` filtered everything away and a bad
 * `userIdType` was ignored.
 */
function badEnum(query: ApiRequest['query'], name: string, values: ReadonlySet<string>): Body | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && values.has(value)) return undefined;
  return { statusCode: 400, message: `${name} must be one of ${[...values].join(', ')}` };
}

/**
 * A key that takes one string given as a list (repeated, or `key[]=`): a body 400. Read as "not given",
 * a listed `namespace` served the default space's grants to a client that meant another.
 */
function listed(query: ApiRequest['query'], names: readonly string[]): Body | undefined {
  const name = names.find((key) => Array.isArray(query[key]));
  return name === undefined ? undefined : { statusCode: 400, message: `${name} must be a string` };
}

/**
 * A POST body read as a JSON object, or the answer refusing it: one not declared `application/json`
 * (drained unread, so the connection stays usable), past the limit, or not a JSON object. GenAuth's
 * answer to another content type is not documented: the strict reading, a 400, never a body parsed
 * regardless of what the request declares.
 */
async function jsonBody(req: IncomingMessage): Promise<{ json: Record<string, unknown> } | { refused: { status: number; body: Body } }> {
  if (!declaresJson(req)) {
    req.resume();
    return { refused: { status: 400, body: { statusCode: 400, message: 'content-type must be application/json' } } };
  }
  const parsed = await readJson(req);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { refused: refusedBody(parsed) };
  return { json: parsed as Record<string, unknown> };
}

/** The answer to a body {@link readJson} could not take: past the limit (GenAuth's 413 class) or not a JSON object. */
function refusedBody(parsed: unknown): { status: number; body: Body } {
  if (parsed === TOO_LARGE) return { status: 413, body: { statusCode: 413, message: 'request body too large' } };
  return { status: 400, body: { statusCode: 400, message: 'invalid JSON body' } };
}

/** Runs a store operation; a {@link TenantError} becomes its body error. */
function guarded(run: () => Body): Body {
  try {
    return run();
  } catch (error) {
    if (error instanceof TenantError) {
      return { statusCode: error.statusCode, message: error.message, ...(error.apiCode === undefined ? {} : { apiCode: error.apiCode }) };
    }
    throw error;
  }
}

/** A row (seeded, or a raw entry) with effect DENY. */
const denies = (grant: unknown): boolean => typeof grant === 'object' && grant !== null && (grant as { effect?: unknown }).effect === 'DENY';

/** Builds the route table; `handle` answers a body for a known route, or `undefined` for an unknown one. */
export function createManagementRoutes({ store, auth, unknownUser, deniedRows, tenantHeaders, nonMemberStatusCode, addWebhook }: ManagementDeps) {
  // apiCode 2120008 of GenAuth's error-code page: "用户已停用或不是此租户成员" (user disabled or not a member of this tenant).
  const notAMember: Body = { statusCode: nonMemberStatusCode, apiCode: 2120008, message: '用户已停用或不是此租户成员' };
  const routes: Record<string, Handler> = {
    // Within a tenant: the grants seeded into it; the other routes read the pool whatever the tenant.
    'GET /api/v3/get-user-authorized-resources': ({ query, tenant }) => {
      const list = listed(query, ['userId', 'userIdType', 'namespace', 'resourceType']);
      if (list !== undefined) return list;
      const userId = text(query.userId);
      if (!userId) return { statusCode: 400, message: 'userId must not be empty' };
      const refused = badEnum(query, 'userIdType', USER_ID_TYPES) ?? badEnum(query, 'resourceType', RESOURCE_TYPE_SET);
      if (refused !== undefined) return refused;
      return guarded(() => {
        const list = store.userResources(userId, text(query.namespace) || undefined, text(query.resourceType), tenant);
        if (list === undefined) return unknownUser === 'not-found' ? { statusCode: 404, apiCode: 2004, message: '用户不存在' } : page([]);
        if (list === NOT_A_MEMBER) return notAMember;
        return page(deniedRows === 'served' ? list : list.filter((grant) => !denies(grant)));
      });
    },

    'GET /api/v3/get-authorized-resources': ({ query }) =>
      listed(query, ['targetType', 'targetIdentifier', 'namespace', 'resourceType', 'withDenied']) ??
      badEnum(query, 'resourceType', RESOURCE_TYPE_SET) ??
      guarded(() => {
        const raw = query.resourceList;
        return page(
          store.targetResources({
            targetType: text(query.targetType),
            targetIdentifier: text(query.targetIdentifier),
            namespace: text(query.namespace),
            resourceType: text(query.resourceType),
            resourceList: raw === undefined ? undefined : Array.isArray(raw) ? raw : [raw],
            withDenied: text(query.withDenied) === 'true',
          }),
        );
      }),

    'GET /api/v3/list-resources': ({ query }) =>
      listed(query, ['namespace', 'type', 'page', 'limit']) ??
      guarded(() => {
        const all = store.listResources(text(query.namespace) || undefined, text(query.type));
        const limit = Math.min(50, Math.max(1, Number(text(query.limit) ?? 10) || 10));
        const start = (Math.max(1, Number(text(query.page) ?? 1) || 1) - 1) * limit;
        return ok({ totalCount: all.length, list: all.slice(start, start + limit) });
      }),

    'POST /api/v3/authorize-resources': ({ body }) =>
      guarded(() => {
        const namespace = body.namespace === undefined ? undefined : String(body.namespace);
        store.authorizeResources(body.list, namespace);
        return ok({ success: true });
      }),

    'POST /api/v3/create-resource': ({ body }) => guarded(() => ok(store.createResource(body))),

    // `CreateWebhookDto`: name, url, events, contentType, enabled?, secret? (retryConfig is accepted and ignored).
    'POST /api/v3/create-webhook': ({ body }) => {
      const { url, events, contentType, secret, enabled } = body as Record<string, unknown>;
      if (typeof body.name !== 'string' || body.name === '') return { statusCode: 400, message: 'name must not be empty' };
      try {
        if (enabled !== false) addWebhook({ url, events, contentType, ...(secret === undefined ? {} : { secret }) } as WebhookSubscription);
      } catch {
        return { statusCode: 400, message: 'url, events or contentType is invalid' };
      }
      return ok({ webhookId: randomUUID(), name: body.name, url, events, contentType, enabled: enabled !== false });
    },

    'POST /api/v3/create-namespace': ({ body }) =>
      guarded(() => {
        const created = store.createNamespace(body.code);
        return ok({ code: created.code, name: typeof body.name === 'string' ? body.name : created.code, description: body.description ?? '' });
      }),
  };

  return {
    /** Answers the token endpoint and the authenticated API; `undefined` when the route is not ours. */
    async handle(request: ApiRequest): Promise<{ status: number; body: Body } | undefined> {
      const { call } = request;
      if (call.method === 'POST' && call.path === '/api/v3/get-management-token') {
        const body = await jsonBody(request.req);
        if ('refused' in body) return body.refused;
        return { status: 200, body: await auth.issueToken(body.json) };
      }
      const handler = routes[`${call.method} ${call.path}`];
      if (handler === undefined) return undefined;
      let body: Record<string, unknown> = {};
      if (call.method === 'POST') {
        const parsed = await jsonBody(request.req);
        if ('refused' in parsed) return parsed.refused;
        body = parsed.json;
      } else {
        request.req.resume(); // drain bodies we ignore so keep-alive connections stay usable
      }
      // The signature covers the parsed query on GET and the top-level body keys otherwise.
      const data = call.method === 'GET' ? request.query : body;
      // The path as sent (not URL-normalised): that is what the client signed.
      const path = (request.req.url ?? '/').split('?')[0] ?? '/';
      const refused = auth.check({ method: call.method, path, headers: request.headers, data }, call, request.replayed);
      if (refused !== undefined) return { status: 200, body: refused };
      const named = requestTenant(request.req, tenantHeaders);
      if ('refused' in named) return { status: 200, body: named.refused };
      if (named.tenant !== undefined) call.tenant = named.tenant;
      return { status: 200, body: await handler({ query: request.query, body, tenant: named.tenant }) };
    },
  };
}
