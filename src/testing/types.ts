import type { AuthorizedResource, ResourceType } from '../wire.js';
import type { AsymmetricAlgorithm, MintOptions } from './mint-types.js';

/** Options of `startEmulator`. Every field has a default so `startEmulator()` just works. */
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
  /**
   * The `scoped_userpool_id` claim of the management tokens it issues (GenAuth's names the pool the
   * access key belongs to): another pool's id emulates an access key of another user pool (the calls
   * themselves are still checked against `userPoolId`); `null` leaves the claim out. For testing how a
   * client treats a token scoped to a pool other than the one it is configured for.
   * @default userPoolId
   */
  managementTokenPoolId?: string | null;
  /** Largest distance between a signed request's `date` and the emulator's clock, in ms (apiCode 1305
   *  beyond it). GenAuth's real window is not documented. @default 900000 (15 minutes) */
  signatureClockSkew?: number;
  /** Users never seeded: body 404 "用户不存在" apiCode 2004 (GenAuth's answer), or an empty list. @default 'not-found' */
  unknownUser?: 'not-found' | 'empty';
  /**
   * Whether `get-user-authorized-resources` lists DENY rows. GenAuth does not document it (the endpoint
   * has no `withDenied` switch; `get-authorized-resources` leaves them out by default), so test a
   * policy that relies on a DENY under both. `get-authorized-resources` follows its `withDenied` either way.
   * @default 'served'
   */
  deniedRows?: 'served' | 'omitted';
  /**
   * The request headers read as the tenant of a call (names in any case). GenAuth does not document which
   * one it reads: its SDKs send `x-authing-tenant-id` (Java), `x-authing-app-tenant-id` (Go), and their
   * `x-genauth-` twins. A header not listed is ignored, as a server that does not read it would: the
   * user pool's grants are answered. Two listed headers (or one sent twice) naming two tenants are
   * refused (body 400), never one of them picked. Narrow it to the one your GenAuth reads.
   * @default ['x-authing-tenant-id', 'x-authing-app-tenant-id', 'x-genauth-tenant-id', 'x-genauth-app-tenant-id']
   */
  tenantHeaders?: readonly string[];
  /**
   * The body `statusCode` of apiCode 2120008 ("user disabled or not a member of this tenant"), answered to
   * `get-user-authorized-resources` for a user of the pool outside the tenant named. GenAuth's error-code
   * page lists the apiCode without its statusCode. @default 403
   */
  nonMemberStatusCode?: number;
  /**
   * The algorithms whose keys the JWKS publishes (and `mintToken` can sign with; HS256 always can).
   * GenAuth's JWKS holds RSA keys for RS256, the algorithm of its access tokens, so that is the
   * default; add `ES256`, `PS256` or `EdDSA` to test a verifier that takes them. Must include RS256.
   * @default ['RS256']
   */
  jwksAlgorithms?: readonly AsymmetricAlgorithm[];
  /** @default 0 (any free port); the host is always 127.0.0.1 */
  port?: number;
}

/**
 * A scripted failure. `path` restricts it to one pathname; `times` bounds it (default: until cleared).
 * `latency` delays and composes with later faults; `slow-body` and `drop-mid-body` change how the real
 * answer is delivered; the others replace the answer.
 */
export type Fault =
  | { kind: 'latency'; ms: number; path?: string; times?: number }
  | { kind: 'status'; status: number; retryAfter?: number; path?: string; times?: number }
  | { kind: 'body-error'; statusCode: number; apiCode?: number; message?: string; path?: string; times?: number }
  | { kind: 'hang'; path?: string; times?: number }
  | { kind: 'drop'; path?: string; times?: number }
  /** Headers at once, then the body `chunkBytes` (default 16) every `intervalMs` (default 100). */
  | { kind: 'slow-body'; chunkBytes?: number; intervalMs?: number; path?: string; times?: number }
  /** Headers (with the full `content-length`) and the first `bytes` of the body (default half), then the socket is destroyed. */
  | { kind: 'drop-mid-body'; bytes?: number; path?: string; times?: number }
  /**
   * A raw answer of your choosing: `status`, `headers` (default `content-type: application/json`) and
   * `body` sent byte for byte (a string or bytes as given; anything else as its JSON text). For testing
   * how a client handles answers the real API could send but the emulator's own routes never do.
   */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body: unknown; path?: string; times?: number };

/** A grant as tests write it; missing fields get GenAuth-like defaults (see {@link GenAuthEmulator.setGrants}). */
export type GrantInput = Partial<AuthorizedResource> & { resourceCode: string; actions: string[] | string };

/** Principals GenAuth grants resources to. */
export type TargetType = 'USER' | 'ROLE' | 'GROUP' | 'DEPARTMENT';

/** One resource of an `authorize-resources` item (`ResourceItemDto`). `effect` is an emulator extension (default ALLOW). */
export interface ResourceItem {
  code: string;
  actions: string[];
  resourceType: ResourceType;
  effect?: 'ALLOW' | 'DENY';
}

/** One item of `authorize-resources` (`AuthorizeResourceItem`). */
export interface AuthorizeItem {
  targetType: TargetType;
  targetIdentifiers: string[];
  resources: ResourceItem[];
}

/** A resource definition (`ResourceDto`), as `create-resource` takes and returns it. */
export interface ResourceDefinition {
  code: string;
  type: ResourceType;
  name?: string;
  description?: string;
  actions?: Array<{ name: string; description?: string }>;
  /** For API resources: the route the resource stands for (served on every grant of `code`). */
  apiIdentifier?: string;
  namespace?: string;
}

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
  /** Envelope `apiCode` sent, if any. */
  apiCode?: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** `userId` query parameter, when present. */
  userId?: string;
  /** Kind of the fault that answered or delivered this call, if any (latency is not recorded). */
  fault?: Fault['kind'];
  /** Scheme the request authenticated with (set when the API checked it). */
  auth?: 'token' | 'signature';
  /** The tenant the request named in a header of `tenantHeaders` (set when the API checked it). */
  tenant?: string;
  /** `x-authing-signature-nonce` / `x-genauth-signature-nonce`, when sent (recorded on arrival). */
  nonce?: string;
}

/**
 * A webhook subscription (`addWebhook`), as `create-webhook` takes one. Every change made through the
 * seeding helpers or the HTTP API sends its event (see docs/testing.md, "Webhooks the emulator sends").
 */
export interface WebhookSubscription {
  /** Where deliveries are POSTed. */
  url: string;
  /** Sent in `secretHeader` when set. */
  secret?: string;
  /**
   * The header the secret goes in. GenAuth's webhook page names it two ways (`x-authing-webhook-secret`
   * in its headers table, `X-Authing-Token` / `X-GenAuth-Token` in its parameter table), so which one it
   * sends is not settled: test a receiver with each.
   * @default 'x-authing-webhook-secret'
   */
  secretHeader?: 'x-authing-webhook-secret' | 'x-genauth-webhook-secret' | 'x-authing-token' | 'x-genauth-token';
  /** Event names to send, or `'*'` for all. @default '*' */
  events?: readonly string[] | '*';
  /** @default 'application/json' */
  contentType?: 'application/json' | 'application/x-www-form-urlencoded';
}

/** One webhook delivery the emulator made (or is making). */
export interface WebhookDelivery {
  url: string;
  eventName: string;
  data: Record<string, unknown>;
  contentType: string;
  /** The HTTP status answered; 0 until answered, or when the delivery failed (see `error`). */
  status: number;
  /** Why the delivery failed (an undici error code, or `network`). */
  error?: string;
  /** When the change was made, ms since the epoch. */
  at: number;
}

/** Options ready for `createGuard`/`createExpressGuard` (structurally a `GuardOptions`). */
export interface EmulatorGuardOptions {
  genauth: { host: string; userPoolId: string; accessKeyId: string; accessKeySecret: string; namespace: string };
  jwt: { issuer: string; audience: string; jwksUri: string; algorithms: 'RS256'[] };
}

/** Namespace option of the seeding helpers. @default 'default' */
export interface NamespaceOption {
  namespace?: string;
}

/** Options of the helpers that seed a user's own grants: the namespace, and the tenant they are seeded in. */
export interface GrantScopeOption extends NamespaceOption {
  /**
   * Seed inside this tenant of the pool: the user becomes its member, and a call naming the tenant in a
   * tenant header (see `tenantHeaders`) is answered these grants, never the pool's. @default none (the pool's own grants)
   */
  tenant?: string;
}

/** Option of `addUser`. */
export interface TenantOption {
  /** Make the user a member of this tenant too (an empty list there rather than apiCode 2120008). */
  tenant?: string;
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
  /** Replace the direct grants of a user in a namespace (default 'default'). Partial entries are filled:
   *  resourceType 'DATA', effect 'ALLOW' (a convenience of the test kit: GenAuth marks `effect` required,
   *  and the guard denies a grant without one), apiIdentifier null, description '', condition []. A string
   *  `actions` is served verbatim (to exercise the JSON-string form). `[]` seeds a user with no grants.
   *  Role, group and department grants of the user are kept. With `{ tenant }`, the user's grants inside
   *  that tenant (the user becomes its member); the pool's own grants are kept. */
  setGrants(userId: string, grants: GrantInput[], options?: GrantScopeOption): void;
  /** Serve these entries verbatim in the user's `get-user-authorized-resources` list (after the filled
   *  grants; nothing defaulted, checked or deduplicated), replacing earlier raw entries of the user. For
   *  testing hostile or unusual shapes: a missing `effect`, `condition` as one object, an unknown type. */
  setRawGrants(userId: string, entries: readonly unknown[], options?: GrantScopeOption): void;
  /** Append direct grants of a user in a namespace (default 'default'), filled like {@link setGrants}. */
  addGrants(userId: string, grants: GrantInput[], options?: GrantScopeOption): void;
  /** Forget all grants and memberships; every user becomes unknown again. Resources and namespaces stay. */
  clearGrants(): void;
  /** Forget everything seeded: grants, memberships, resources, namespaces (back to 'default' only). */
  reset(): void;
  /** Make a user known (an empty grant list rather than "user not found"); with `{ tenant }` a member of it too. */
  addUser(userId: string, options?: TenantOption): void;
  /** Give a user a role (role codes live in a namespace, default 'default'). */
  assignRole(userId: string, roleCode: string, options?: NamespaceOption): void;
  /** Put a user in a group (group codes are pool-wide). */
  addToGroup(userId: string, groupCode: string): void;
  /** Put a user in a department (department ids are pool-wide). */
  addToDepartment(userId: string, departmentId: string): void;
  /** Create a permission namespace (same as `POST /api/v3/create-namespace`); 'default' always exists. */
  createNamespace(code: string): void;
  /** Define a resource (same as `POST /api/v3/create-resource`). Throws on a bad or duplicate definition. */
  createResource(resource: ResourceDefinition): void;
  /** Grant resources to principals (same as `POST /api/v3/authorize-resources`). Throws on bad input. */
  authorizeResources(list: AuthorizeItem[], options?: NamespaceOption): void;
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
  /**
   * Subscribes a URL to the tenant's changes, as GenAuth's webhooks do: each change made through the
   * seeding helpers or the HTTP API is POSTed there (one subscription's deliveries in order, no retries).
   * Returns a function that removes the subscription.
   * @throws TypeError naming the option when `options` is malformed.
   */
  addWebhook(options: WebhookSubscription): () => void;
  /** Resolves once every webhook delivery queued so far has been answered (or has failed). */
  webhooksSettled(): Promise<void>;
  /** Every webhook delivery made, in order. */
  readonly webhookDeliveries: ReadonlyArray<WebhookDelivery>;
  /** Locks a user, as GenAuth's console does: sends `user:blocked`. Their grants are still served. */
  blockUser(userId: string): void;
  /** Unlocks a user: sends `user:unblocked`. */
  unblockUser(userId: string): void;
  /** Archives a user: sends `user:archived`. Their grants are still served. */
  archiveUser(userId: string): void;
  /** Deletes a user: their direct grants and memberships go, they are unknown again; sends `user:deleted`. */
  deleteUser(userId: string): void;
  /** Fresh options object pointing a guard at this emulator. */
  guardOptions(): EmulatorGuardOptions;
  /** Close the server and destroy open sockets (hanging requests included). Idempotent. */
  close(): Promise<void>;
}

/** A V3 envelope the emulator answers (message and requestId are filled when sent). */
export interface Body {
  statusCode: number;
  message?: string;
  apiCode?: number;
  data?: unknown;
}
