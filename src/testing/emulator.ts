import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthenticator } from './auth.js';
import { deliver, headerRecord, parseQuery, type Delivery } from './http.js';
import { createManagementRoutes } from './routes/management.js';
import { oidcRoute } from './routes/oidc.js';
import { TenantError, createTenantStore } from './store.js';
import { announcingStore } from './store-events.js';
import { createWebhookSender } from './webhooks.js';
import { createTokenMinter, type TokenMinter } from './tokens.js';
import type { Body, EmulatorCall, EmulatorOptions, Fault, GenAuthEmulator, GrantScopeOption } from './types.js';
import { nonEmptyString, strictObject } from '../options/checks.js';
import { resolveEmulatorOptions } from './options.js';

/**
 * The namespace and tenant of a seeding helper's options (`{ namespace, tenant }`), checked like every
 * option of ours; `keys` limits them (`['namespace']` for a helper that takes no tenant).
 */
function scopeOf(options: GrantScopeOption | undefined, method: string, keys: ReadonlyArray<keyof GrantScopeOption> = ['namespace', 'tenant']) {
  if (options === undefined) return { namespace: undefined, tenant: undefined };
  const input = strictObject(options, keys, method);
  // An empty or non-string tenant would seed grants no call can name: refused, not read as "the pool".
  const tenant = input.tenant === undefined ? undefined : nonEmptyString(input.tenant, `${method}.tenant`);
  return { namespace: input.namespace as string | undefined, tenant };
}

/** Seeding helpers throw a TypeError carrying the emulator's answer, so a bad seed fails the test loudly. */
function seed<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof TenantError) throw new TypeError(`emulator: ${error.message} (statusCode ${error.statusCode})`);
    throw error;
  }
}

/**
 * Start a GenAuth emulator on 127.0.0.1: the V3 management API (both auth schemes), the OIDC keys,
 * scripted grants and faults. Close it with `close()` (e.g. in `afterAll`).
 * @example
 * const emulator = await startEmulator();
 * emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
 * const guard = createExpressGuard(emulator.guardOptions());
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<GenAuthEmulator> {
  const settings = resolveEmulatorOptions(options);
  const { userPoolId, accessKeyId, accessKeySecret, audience } = settings;

  const webhooks = createWebhookSender(userPoolId);
  const store = announcingStore(createTenantStore(), webhooks.emit, userPoolId);
  const faults: Array<{ fault: Fault; remaining: number }> = [];
  const calls: EmulatorCall[] = [];
  const closing = new AbortController(); // aborts latency sleeps and trickles so close() never waits on them
  // Every delayed call listens on this one signal: many at once are expected, not a leak.
  setMaxListeners(0, closing.signal);
  let jwksAvailable = true;
  let url = '';
  let minter: TokenMinter;
  const auth = createAuthenticator({
    userPoolId,
    accessKeyId,
    accessKeySecret,
    tokenTtl: settings.managementTokenTtl,
    tokenPoolId: settings.managementTokenPoolId,
    maxSkew: settings.signatureClockSkew,
    minter: () => minter,
  });
  const api = createManagementRoutes({ store, auth, unknownUser: settings.unknownUser, deniedRows: settings.deniedRows,
    tenantHeaders: settings.tenantHeaders, nonMemberStatusCode: settings.nonMemberStatusCode, addWebhook: (subscription) => void webhooks.add(subscription) });

  const sendJson = (res: ServerResponse, call: EmulatorCall, status: number, json: unknown, delivery: Delivery, headers: Record<string, string> = {}) => {
    call.status = status;
    deliver(res, status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(json), delivery, closing.signal);
  };

  const send = (res: ServerResponse, call: EmulatorCall, status: number, body: Body, delivery: Delivery, headers: Record<string, string> = {}) => {
    call.statusCode = body.statusCode;
    if (body.apiCode !== undefined) call.apiCode = body.apiCode;
    const { statusCode, message = '', apiCode, data } = body;
    sendJson(res, call, status, { statusCode, message, apiCode, requestId: randomUUID(), data }, delivery, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = URL.parse(req.url ?? '/', url);
    const call: EmulatorCall = {
      method: req.method ?? 'GET',
      path: parsed?.pathname ?? req.url ?? '',
      query: parsed === null ? {} : Object.fromEntries(parsed.searchParams),
      status: 0,
      at: Date.now(),
    };
    if (call.query.userId !== undefined) call.userId = call.query.userId;
    calls.push(call);
    if (parsed === null) {
      // A request target that is no URL (`//`, `http://[`): a bad request, not an emulator error.
      req.resume();
      return send(res, call, 400, { statusCode: 400, message: 'invalid request target' }, undefined);
    }
    const headers = headerRecord(req);
    // Before any fault: a faulted first try still consumes its nonce, so an unsigned retry would be refused.
    const replayed = auth.observe(call, headers);
    let delivery: Delivery;
    for (const entry of faults) {
      const { fault } = entry;
      if (entry.remaining <= 0 || (fault.path !== undefined && fault.path !== call.path)) continue;
      entry.remaining -= 1;
      if (fault.kind === 'latency') {
        await sleep(fault.ms, undefined, { signal: closing.signal });
        continue; // latency composes with later faults, then serves normally
      }
      call.fault = fault.kind;
      if (fault.kind === 'slow-body' || fault.kind === 'drop-mid-body') {
        delivery = fault; // the real answer, delivered badly
        break;
      }
      req.resume();
      switch (fault.kind) {
        case 'status': {
          const message = fault.status === 429 ? '您的请求已超过最大数量限制，请稍后重试' : `emulated HTTP ${fault.status}`;
          const extra: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
          return send(res, call, fault.status, { statusCode: fault.status, message }, undefined, extra);
        }
        case 'body-error':
          return send(res, call, 200, {
            statusCode: fault.statusCode,
            message: fault.message ?? `emulated error ${fault.statusCode}`,
            ...(fault.apiCode === undefined ? {} : { apiCode: fault.apiCode }),
          }, undefined);
        case 'respond': {
          call.status = fault.status;
          const body = typeof fault.body === 'string' || fault.body instanceof Uint8Array ? fault.body : JSON.stringify(fault.body);
          res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers, 'content-length': String(Buffer.byteLength(body)) });
          res.end(body);
          return;
        }
        case 'hang':
          return; // the socket is destroyed by close()
        case 'drop':
          req.socket.destroy();
          return;
      }
    }
    const answered = await api.handle({ req, call, headers, query: parseQuery(parsed.searchParams), replayed });
    if (answered !== undefined) return send(res, call, answered.status, answered.body, delivery);
    req.resume();
    const oidc = oidcRoute(call.method, call.path, { issuer: () => `${url}/oidc`, minter: () => minter, jwksAvailable: () => jwksAvailable });
    if (oidc !== undefined) return sendJson(res, call, oidc.status, oidc.json, delivery);
    send(res, call, 404, { statusCode: 404, message: `no route ${call.method} ${call.path}` }, delivery);
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
    server.listen(settings.port, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/oidc`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  // Keys are made after listen() because the issuer embeds the port; a failure must not leak the server.
  try {
    minter = await createTokenMinter({ issuer, audience, hs256Secret: settings.hs256Secret, algorithms: settings.jwksAlgorithms });
  } catch (error) {
    server.close();
    throw error;
  }
  let closed: Promise<void> | undefined;

  return {
    url, issuer, jwksUri, userPoolId, accessKeyId, accessKeySecret, audience,
    hs256Secret: minter.hs256Secret,
    setGrants(userId, input, opts) {
      const { namespace, tenant } = scopeOf(opts, 'setGrants');
      store.putUserGrants(userId, input, namespace, true, tenant);
    },
    addGrants(userId, input, opts) {
      const { namespace, tenant } = scopeOf(opts, 'addGrants');
      store.putUserGrants(userId, input, namespace, false, tenant);
    },
    setRawGrants(userId, entries, opts) {
      const { namespace, tenant } = scopeOf(opts, 'setRawGrants');
      store.putRawUserGrants(userId, entries, namespace, tenant);
    },
    clearGrants: () => store.clearGrants(),
    reset: () => store.reset(),
    addUser: (userId, opts) => store.addUser(userId, scopeOf(opts, 'addUser', ['tenant']).tenant),
    assignRole: (userId, roleCode, opts) => store.assignRole(userId, roleCode, scopeOf(opts, 'assignRole', ['namespace']).namespace),
    addToGroup: (userId, groupCode) => store.addToGroup(userId, groupCode),
    addToDepartment: (userId, departmentId) => store.addToDepartment(userId, departmentId),
    createNamespace: (code) => void seed(() => store.createNamespace(code)),
    createResource: (resource) => void seed(() => store.createResource(resource)),
    authorizeResources: (list, opts) => seed(() => store.authorizeResources(list, scopeOf(opts, 'authorizeResources', ['namespace']).namespace)),
    fault: (fault) => void faults.push({ fault, remaining: fault.times ?? Infinity }),
    clearFaults: () => void (faults.length = 0),
    get calls() {
      return calls;
    },
    callCount: (path) => (path === undefined ? calls.length : calls.filter((call) => call.path === path).length),
    resetCalls: () => void (calls.length = 0),
    mintToken: (userId, opts) => minter.mint(userId, opts),
    setJwksAvailable: (available) => void (jwksAvailable = available),
    revokeManagementTokens: () => auth.revokeTokens(),
    addWebhook: (subscription) => webhooks.add(subscription),
    webhooksSettled: () => webhooks.settled(),
    get webhookDeliveries() {
      return webhooks.deliveries;
    },
    blockUser: (userId) => store.blockUser(userId),
    unblockUser: (userId) => store.unblockUser(userId),
    archiveUser: (userId) => store.archiveUser(userId),
    deleteUser: (userId) => store.deleteUser(userId),
    guardOptions: () => ({
      genauth: { host: url, userPoolId, accessKeyId, accessKeySecret, namespace: 'default' },
      jwt: { issuer, audience, jwksUri, algorithms: ['RS256'] },
    }),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => webhooks.close())),
  };
}
