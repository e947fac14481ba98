import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import type { AuthorizedResource, ResourceType } from '../genauth/types.js';
import { createTokenMinter, type MintOptions, type TokenMinter } from './tokens.js';

/** Options of {@link startEmulator}. Every field has a default so `startEmulator()` just works. */
export interface EmulatorOptions {
  /** @default 'emulator-pool' */
  userPoolId?: string;
  /** @default userPoolId (GenAuth accepts the pool id as access key id) */
  accessKeyId?: string;
  /** @default 'emulator-secret' */
  accessKeySecret?: string;
  /** `aud` of minted user tokens. @default 'emulator-app' */
  audience?: string;
  /** Secret of HS256 user tokens. @default 32 random bytes, hex */
  hs256Secret?: string;
  /** Lifetime of management tokens in seconds. @default 7200 */
  managementTokenTtl?: number;
  /** Users never seeded: body 404 "用户不存在" apiCode 2004 (GenAuth's answer), or an empty list. @default 'not-found' */
  unknownUser?: 'not-found' | 'empty';
  /** @default 0 (any free port); the host is always 127.0.0.1 */
  port?: number;
}

/** A scripted failure. `path` restricts it to one pathname; `times` bounds it (default: until cleared). */
export type Fault =
  | { kind: 'latency'; ms: number; path?: string; times?: number }
  | { kind: 'status'; status: number; retryAfter?: number; path?: string; times?: number }
  | { kind: 'body-error'; statusCode: number; apiCode?: number; message?: string; path?: string; times?: number }
  | { kind: 'hang'; path?: string; times?: number }
  | { kind: 'drop'; path?: string; times?: number };

/** A grant as tests write it; missing fields get GenAuth-like defaults (see {@link GenAuthEmulator.setGrants}). */
export type GrantInput = Partial<AuthorizedResource> & { resourceCode: string; actions: string[] | string };

/** One request the emulator received. */
export interface EmulatorCall {
  method: string;
  /** Pathname, without query. */
  path: string;
  query: Record<string, string>;
  /** HTTP status sent; 0 while unanswered or when a `hang`/`drop` fault swallowed it. */
  status: number;
  /** Envelope `statusCode` sent, when a JSON envelope was answered (differs from `status` on body errors). */
  statusCode?: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** `userId` query parameter, when present. */
  userId?: string;
  /** Kind of the terminal fault that answered this call, if any (latency is not terminal). */
  fault?: Fault['kind'];
}

/** Options ready for `createGuard`/`createExpressGuard` (structurally a `GuardOptions`). */
export interface EmulatorGuardOptions {
  genauth: { host: string; userPoolId: string; accessKeyId: string; accessKeySecret: string; namespace: string };
  jwt: { issuer: string; audience: string; jwksUri: string; algorithms: 'RS256'[] };
}

/** A running GenAuth emulator: management API + OIDC keys on 127.0.0.1, with scripted grants and faults. */
export interface GenAuthEmulator {
  /** `http://127.0.0.1:PORT`, the management API host. */
  readonly url: string;
  /** `${url}/oidc`, the `iss` of minted tokens. */
  readonly issuer: string;
  /** `${url}/oidc/.well-known/jwks.json`. */
  readonly jwksUri: string;
  readonly userPoolId: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly audience: string;
  readonly hs256Secret: string;
  /** Replace all grants of a user in a namespace (default 'default'). Partial entries are filled:
   *  resourceType 'DATA', effect 'ALLOW', apiIdentifier null, description '', condition []. A string
   *  `actions` is served verbatim (to exercise the JSON-string form). `[]` seeds a user with no grants. */
  setGrants(userId: string, grants: GrantInput[], options?: { namespace?: string }): void;
  /** Append grants of a user in a namespace (default 'default'), filled like {@link setGrants}. */
  addGrants(userId: string, grants: GrantInput[], options?: { namespace?: string }): void;
  /** Forget all grants; every user becomes unknown again. */
  clearGrants(): void;
  /** Queue a fault; applies to matching requests `times` times (default: until cleared). */
  fault(fault: Fault): void;
  clearFaults(): void;
  /** Requests served, in arrival order (faulted ones included). */
  readonly calls: ReadonlyArray<EmulatorCall>;
  /** Number of calls, optionally only those to one pathname (e.g. '/api/v3/get-user-authorized-resources'). */
  callCount(path?: string): number;
  resetCalls(): void;
  /** Sign a user access token (RS256 with the emulator's JWKS key by default). */
  mintToken(userId: string, options?: MintOptions): Promise<string>;
  /** Turn the JWKS endpoint off (answers 503) or on, to test key-server outages. */
  setJwksAvailable(available: boolean): void;
  /** Invalidate all issued management tokens, so the next API call answers body 401 (token refresh tests). */
  revokeManagementTokens(): void;
  /** Fresh options object pointing a guard at this emulator. */
  guardOptions(): EmulatorGuardOptions;
  /** Close the server and destroy open sockets (hanging requests included). Idempotent. */
  close(): Promise<void>;
}

const GRANTS_PATH = '/api/v3/get-user-authorized-resources';
const TOKEN_PATH = '/api/v3/get-management-token';
const MAX_BODY = 1 << 20;

type Body = { statusCode: number; message?: string; apiCode?: number; data?: unknown };

function fill(grant: GrantInput): AuthorizedResource {
  return {
    resourceCode: grant.resourceCode,
    resourceType: grant.resourceType ?? 'DATA',
    actions: Array.isArray(grant.actions) ? [...grant.actions] : grant.actions,
    effect: grant.effect ?? 'ALLOW',
    apiIdentifier: grant.apiIdentifier ?? null,
    description: grant.description ?? '',
    condition: grant.condition ?? [],
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Read a JSON body; `undefined` signals a body that is not JSON (answered 400, never thrown). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    return undefined;
  }
}

/** Start an emulator on 127.0.0.1. Close it with `close()` (e.g. in `afterAll`). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<GenAuthEmulator> {
  const userPoolId = options.userPoolId ?? 'emulator-pool';
  const accessKeyId = options.accessKeyId ?? userPoolId;
  const accessKeySecret = options.accessKeySecret ?? 'emulator-secret';
  const audience = options.audience ?? 'emulator-app';
  const ttl = options.managementTokenTtl ?? 7200;
  const unknownUser = options.unknownUser ?? 'not-found';

  const grants = new Map<string, Map<string, AuthorizedResource[]>>(); // namespace -> user -> grants
  const faults: Array<{ fault: Fault; remaining: number }> = [];
  const calls: EmulatorCall[] = [];
  const managementTokens = new Map<string, number>(); // token -> expiry (ms)
  const closing = new AbortController(); // aborts latency sleeps so close() never waits on them
  let jwksAvailable = true;
  let url = '';
  let minter: TokenMinter;

  const send = (res: ServerResponse, call: EmulatorCall, status: number, body: Body, headers: Record<string, string> = {}) => {
    call.status = status;
    call.statusCode = body.statusCode;
    if (res.destroyed) return;
    const { statusCode, message = '', apiCode, data } = body;
    const text = JSON.stringify({ statusCode, message, apiCode, requestId: randomUUID(), data });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  /** GenAuth answers auth failures with HTTP 200 + body statusCode; `undefined` means authorized. */
  const authFailure = (req: IncomingMessage): Body | undefined => {
    const raw = header(req, 'authorization') ?? '';
    const token = raw.replace(/^bearer\s+/i, '').trim();
    const expiry = managementTokens.get(token);
    if (expiry === undefined || expiry <= Date.now()) {
      return { statusCode: 401, message: token ? 'management token invalid or expired' : 'missing authorization' };
    }
    const pool = header(req, 'x-authing-userpool-id') ?? header(req, 'x-genauth-userpool-id');
    if (pool !== userPoolId) return { statusCode: 403, apiCode: 2224, message: '用户池不存在' };
    return undefined;
  };

  const issueManagementToken = async (): Promise<Body> => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ scoped_userpool_id: userPoolId, jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: minter.key('RS256').kid })
      .setSubject(accessKeyId)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(minter.key('RS256').privateKey);
    managementTokens.set(token, (now + ttl) * 1000);
    return { statusCode: 200, message: '', data: { access_token: token, expires_in: ttl } };
  };

  const authorizedResources = (query: Record<string, string>): Body => {
    const userId = query.userId;
    if (!userId) return { statusCode: 400, message: 'userId must not be empty' };
    const seeded = [...grants.values()].some((users) => users.has(userId));
    if (!seeded && unknownUser === 'not-found') return { statusCode: 404, apiCode: 2004, message: '用户不存在' };
    let list = grants.get(query.namespace || 'default')?.get(userId) ?? [];
    const type = query.resourceType as ResourceType | undefined;
    if (type) list = list.filter((grant) => grant.resourceType === type);
    return { statusCode: 200, message: '', data: { totalCount: list.length, list } };
  };

  const route = async (req: IncomingMessage, res: ServerResponse, call: EmulatorCall): Promise<void> => {
    const route = `${call.method} ${call.path}`;
    if (route === `POST ${TOKEN_PATH}`) {
      const body = (await readJson(req)) as { accessKeyId?: unknown; accessKeySecret?: unknown } | null | undefined;
      if (body === undefined || body === null || typeof body !== 'object') {
        return send(res, call, 400, { statusCode: 400, message: 'invalid JSON body' });
      }
      if (body.accessKeyId !== accessKeyId || body.accessKeySecret !== accessKeySecret) {
        return send(res, call, 200, { statusCode: 401, message: 'accessKeyId or accessKeySecret is wrong' });
      }
      return send(res, call, 200, await issueManagementToken());
    }
    req.resume(); // drain bodies we ignore so keep-alive connections stay usable
    if (route === `GET ${GRANTS_PATH}`) return send(res, call, 200, authFailure(req) ?? authorizedResources(call.query));
    if (route === 'GET /oidc/.well-known/jwks.json') {
      if (!jwksAvailable) return send(res, call, 503, { statusCode: 503, message: 'JWKS unavailable (emulated)' });
      const text = JSON.stringify(minter.jwks());
      call.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (route === 'GET /oidc/.well-known/openid-configuration') {
      const issuer = `${url}/oidc`;
      const text = JSON.stringify({
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/token/introspection`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'HS256'],
      });
      call.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    send(res, call, 404, { statusCode: 404, message: `no route ${route}` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = new URL(req.url ?? '/', url);
    const call: EmulatorCall = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      status: 0,
      at: Date.now(),
    };
    if (call.query.userId !== undefined) call.userId = call.query.userId;
    calls.push(call);
    for (const entry of faults) {
      const { fault } = entry;
      if (entry.remaining <= 0 || (fault.path !== undefined && fault.path !== call.path)) continue;
      entry.remaining -= 1;
      if (fault.kind === 'latency') {
        await sleep(fault.ms, undefined, { signal: closing.signal });
        continue; // latency composes with later faults, then serves normally
      }
      call.fault = fault.kind;
      req.resume();
      switch (fault.kind) {
        case 'status': {
          const message = fault.status === 429 ? '您的请求已超过最大数量限制，请稍后重试' : `emulated HTTP ${fault.status}`;
          const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
          return send(res, call, fault.status, { statusCode: fault.status, message }, headers);
        }
        case 'body-error':
          return send(res, call, 200, {
            statusCode: fault.statusCode,
            message: fault.message ?? `emulated error ${fault.statusCode}`,
            ...(fault.apiCode === undefined ? {} : { apiCode: fault.apiCode }),
          });
        case 'hang':
          return; // the socket is destroyed by close()
        case 'drop':
          req.socket.destroy();
          return;
      }
    }
    await route(req, res, call);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Aborted latency at close, or a bug: never crash the test process.
      if (!closing.signal.aborted && !res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ statusCode: 500, message: 'emulator error', requestId: randomUUID() }));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/oidc`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  // Keys are made after listen() because the issuer embeds the port; a failure must not leak the server.
  try {
    minter = await createTokenMinter({ issuer, audience, hs256Secret: options.hs256Secret });
  } catch (error) {
    server.close();
    throw error;
  }

  const store = (userId: string, input: GrantInput[], namespace = 'default', replace: boolean) => {
    let users = grants.get(namespace);
    if (!users) grants.set(namespace, (users = new Map()));
    const current = replace ? [] : (users.get(userId) ?? []);
    users.set(userId, [...current, ...input.map(fill)]);
  };
  let closed: Promise<void> | undefined;

  return {
    url, issuer, jwksUri, userPoolId, accessKeyId, accessKeySecret, audience,
    hs256Secret: minter.hs256Secret,
    setGrants: (userId, input, opts) => store(userId, input, opts?.namespace, true),
    addGrants: (userId, input, opts) => store(userId, input, opts?.namespace, false),
    clearGrants: () => grants.clear(),
    fault: (fault) => void faults.push({ fault, remaining: fault.times ?? Infinity }),
    clearFaults: () => void (faults.length = 0),
    get calls() {
      return calls;
    },
    callCount: (path) => (path === undefined ? calls.length : calls.filter((call) => call.path === path).length),
    resetCalls: () => void (calls.length = 0),
    mintToken: (userId, opts) => minter.mint(userId, opts),
    setJwksAvailable: (available) => void (jwksAvailable = available),
    revokeManagementTokens: () => managementTokens.clear(),
    guardOptions: () => ({
      genauth: { host: url, userPoolId, accessKeyId, accessKeySecret, namespace: 'default' },
      jwt: { issuer, audience, jwksUri, algorithms: ['RS256'] },
    }),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
