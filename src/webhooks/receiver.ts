/**
 * The framework-neutral webhook receiver: a delivery's method, headers and body in, the answer out,
 * with the guard's invalidations made (and awaited) in between. The adapters' route helpers read the
 * request and write the answer; everything else is here, once.
 */
import { hasLifecycle, isClosed } from '../core/lifecycle.js';
import { fail } from '../options/checks.js';
import type { Guard } from '../core/types.js';
import { poolIdKey } from '../genauth/pool-id.js';
import { channels, moreChannels, type WebhookEvent, type WebhookIgnoredReason, type WebhookInvalidationEvent, type WebhookRejectedEvent, type WebhookRejectReason } from '../events.js';
import { parseWebhookBody, type WebhookBody } from './body.js';
import { planEvent, type WebhookAction } from './events.js';
import { resolveWebhookOptions, type WebhookOptions } from './options.js';
import { createSecretCheck, lowerCaseHeaders, type WebhookHeaders } from './secret.js';

/** One delivery as the receiver takes it. */
export interface WebhookInput {
  method: string;
  /** As Node gives them (lower-case names, a list for a repeated header); other casings are folded. */
  headers: WebhookHeaders;
  /**
   * The raw body (preferred: bytes or text, checked against `maxBytes` exactly), or the body a
   * framework already parsed (a JSON object, or a form's fields; then `content-length` and its JSON
   * text are checked, and it must be what `JSON.parse` could have made, of a content type and encoding
   * the raw path reads: a key named twice or bytes that were not UTF-8 can no longer be seen).
   * `undefined` when there was none.
   */
  body: WebhookBody | undefined;
}

/** The answer to send, and what the delivery did. */
export interface WebhookAnswer {
  /** 204 handled or ignored; 400 malformed; 401 bad secret; 405 not POST; 413 too large; 415 unsupported type; 503 not recorded (a shared store refused it, or the guard was closed and none holds it). */
  status: number;
  headers: Record<string, string>;
  /** `''` on a 204; a fixed problem+json text otherwise (never the secret, never the body). */
  body: string;
  /** The event's name, once the secret was right and the body readable. */
  eventName?: string;
  /** The invalidations made. */
  actions: readonly WebhookAction[];
  /** Set when a readable delivery was answered 204 without acting on it for this reason (another user pool). */
  ignored?: WebhookIgnoredReason;
}

/** The receiver of one guard. */
export interface WebhookReceiver {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /**
   * The answer the method and headers alone call for (405, 401, 413 by `content-length`), before any
   * body is read; else undefined. A refusal is published as a delivery.
   */
  screen(method: string, headers: WebhookHeaders): WebhookAnswer | undefined;
  /** A refusal decided outside the receiver (the body could not be read: 413, 400; 500), published as a delivery. */
  refuse(status: 400 | 413 | 500, headers?: Record<string, string>): WebhookAnswer;
  /** Handles one delivery. Never throws or rejects. */
  receive(input: WebhookInput): Promise<WebhookAnswer>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An answer with fixed texts only. */
export function webhookAnswer(status: number, extra: Partial<Pick<WebhookAnswer, 'eventName' | 'actions' | 'ignored'>> & { headers?: Record<string, string> } = {}): WebhookAnswer {
  const { headers = {}, actions = [], eventName, ignored } = extra;
  const body = status === 204 ? '' : JSON.stringify({ type: 'about:blank', title: TITLES[status] ?? 'Error', status });
  const type: Record<string, string> = status === 204 ? {} : { 'content-type': 'application/problem+json' };
  return {
    status,
    headers: { ...type, 'cache-control': 'no-store', ...headers },
    body,
    actions,
    ...(eventName === undefined ? {} : { eventName }),
    ...(ignored === undefined ? {} : { ignored }),
  };
}

/** The headers a delivery may name its user pool in: GenAuth's documented one, and its `x-genauth-` spelling. */
const POOL_HEADERS = ['x-authing-userpool-id', 'x-genauth-userpool-id'] as const;

/** The values a header or field gives for a pool (absent, null and '' give none): every value of a repeated header counts. */
function namedPools(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * True when the delivery clearly names another user pool, in a header or as `data.userPoolId` (the
 * permission events' payload), and nowhere `ours`. It fails closed: dropping a delivery of this pool
 * would keep a revoked grant or a blocked user's tokens working, acting on one of another pool only
 * invalidates. So the same id in another case or with whitespace around it is ours, a value that is not
 * a string (or is only whitespace) names no pool, and a delivery naming ours anywhere is taken, whatever
 * else it names. A delivery naming none is taken (the field is not in every event's payload, and the
 * header's presence is not documented as guaranteed).
 */
function namesOtherPool(headers: WebhookHeaders, data: Record<string, unknown>, ours: string): boolean {
  const named = [...POOL_HEADERS.flatMap((name) => namedPools(headers[name])), ...namedPools(data.userPoolId)];
  // Compared as poolIdKey writes them (trimmed, lower-cased); a blank one names no pool.
  const keys = named.flatMap((pool) => (typeof pool === 'string' ? [poolIdKey(pool)] : [])).filter((key) => key !== '');
  return keys.length > 0 && !keys.includes(poolIdKey(ours));
}

/** The byte length of a parsed body's JSON text; undefined when it is nested too deep to serialize. */
function jsonSize(body: Record<string, unknown>): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(body));
  } catch {
    return undefined;
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The guard `createGuard()` made: `value` itself, or the `core` of an adapter's guard (the Express and
 * Koa guards, Fastify's `app.genauth`, the Nest `GenAuthService`). Anything else is refused: a copy or
 * a wrapper (`{ ...guard }`, an object inheriting from it) cannot say the guard was closed, so a
 * delivery after `close()` was answered 204, its invalidation held nowhere (and `recorded: true`).
 */
function guardOf(value: unknown): Guard {
  if (typeof value === 'object' && value !== null) {
    if (hasLifecycle(value)) return value as Guard;
    const core = (value as { core?: unknown }).core;
    if (typeof core === 'object' && core !== null && hasLifecycle(core)) return core as Guard;
  }
  fail('guard', "must be the guard createGuard() made or an adapter's guard, not a copy or wrapper of one (it could not tell the receiver the guard was closed)");
}

/**
 * Creates the webhook receiver of a guard: one `createGuard()` made, or an adapter's guard (its
 * `core`). Once the guard is closed, a delivery that calls for an invalidation is a 503 `not_recorded`
 * (unless `cache.redis` recorded it), as on the adapters' webhook routes.
 * @example const receiver = createWebhookReceiver(guard, { secret: process.env.GENAUTH_WEBHOOK_SECRET });
 * @throws TypeError naming the option when `options` is wrong, or `guard` when it is not a guard createGuard() made (nor an adapter's).
 */
export function createWebhookReceiver(given: Guard | { readonly core: Guard }, options: WebhookOptions, path = 'webhook'): WebhookReceiver {
  const guard = guardOf(given);
  const { secrets, maxBytes } = resolveWebhookOptions(options, path);
  const secretMatches = createSecretCheck(secrets);
  const scope = { namespace: guard.options.genauth.namespace, userIdType: guard.options.genauth.userIdType };
  const userPoolId = guard.options.genauth.userPoolId;
  let warned = false;
  let warnedPool = false;

  function check(method: string, given: WebhookHeaders): WebhookAnswer | undefined {
    const headers = lowerCaseHeaders(given);
    if (method.toUpperCase() !== 'POST') return webhookAnswer(405, { headers: { allow: 'POST' } });
    if (!secretMatches(headers)) return webhookAnswer(401);
    const length = Number(header(headers, 'content-length'));
    if (length > maxBytes) return webhookAnswer(413, { headers: { connection: 'close' } });
    return undefined;
  }

  async function handle(input: WebhookInput): Promise<WebhookAnswer> {
    const early = check(input.method, input.headers);
    if (early !== undefined) return early;
    const headers = lowerCaseHeaders(input.headers);
    const { body } = input;
    if (body === undefined) return webhookAnswer(400);
    const raw = typeof body === 'string' || body instanceof Uint8Array;
    if (raw) {
      if ((typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) > maxBytes) return webhookAnswer(413, { headers: { connection: 'close' } });
    } else {
      // A parsed body of a chunked request has no content-length to go by: its JSON text stands in for it.
      const size = jsonSize(body);
      if (size === undefined) return webhookAnswer(400);
      if (size > maxBytes) return webhookAnswer(413, { headers: { connection: 'close' } });
    }
    // Compressed bytes are never inflated here (a zip bomb is past any body limit); a body a parser
    // inflated is refused as its bytes would have been.
    const encoding = header(headers, 'content-encoding')?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') return webhookAnswer(415);
    // An empty request a parser read as `{}`: its bytes are no JSON.
    if (!raw && header(headers, 'content-length')?.trim() === '0') return webhookAnswer(400);
    const parsed = parseWebhookBody(header(headers, 'content-type'), body);
    if ('status' in parsed) return webhookAnswer(parsed.status);
    const { eventName, data } = parsed;
    if (moreChannels.webhookReceived.hasSubscribers) moreChannels.webhookReceived.publish({ eventName });
    if (namesOtherPool(headers, data, userPoolId)) return otherPool(eventName);
    const plan = eventName === undefined ? undefined : planEvent(eventName, data, scope);
    if (plan === undefined) return webhookAnswer(204, { eventName });
    if ('unidentified' in plan) return unidentified(eventName as string);
    const held = await applyAll(eventName as string, plan.actions);
    // Not held where it counts: a shared store refused a record, or the guard was closed and none
    // recorded it (a closed guard decides nothing, and what it holds in memory ends with it). GenAuth
    // must deliver it again (to the instance that replaces this one). Recorded in Redis, an invalidation
    // made by a closed guard holds for every instance: a 204.
    if (!held) return webhookAnswer(503, { eventName, actions: plan.actions, headers: { 'retry-after': String(guard.options.retryAfter) } });
    return webhookAnswer(204, { eventName, actions: plan.actions });
  }

  /**
   * Makes one invalidation. Resolves true when a shared store recorded it (the guard's call returned a
   * promise), false when it was made in this process only; rejects when the store refused it.
   */
  async function apply(action: WebhookAction): Promise<boolean> {
    const made = action.kind === 'invalidateAll' ? guard.invalidateAll() : action.kind === 'invalidateUser' ? guard.invalidateUser(action.userId) : guard.revokeUser(action.userId);
    await made;
    return made !== undefined;
  }

  /**
   * Makes a delivery's invalidations, then tells `genauth-guard:webhook:invalidation` of each whether it
   * is held where it counts (`recorded`), by the rule the answer follows: a shared store recorded it, or
   * the guard is open and made it in its memory. Resolves true when every one is (the delivery may be a
   * 204), false when one is not (a 503 not_recorded, GenAuth delivers it again). Never rejects.
   */
  async function applyAll(eventName: string, actions: readonly WebhookAction[]): Promise<boolean> {
    const made = await Promise.allSettled(actions.map((action) => apply(action)));
    // Judged once, after every invalidation settled: the events and the answer say the same.
    const closed = isClosed(guard);
    const recorded = made.map((outcome) => outcome.status === 'fulfilled' && (outcome.value || !closed));
    if (moreChannels.webhookInvalidation.hasSubscribers) {
      actions.forEach((action, i) => {
        const userId = action.kind === 'invalidateAll' ? undefined : action.userId;
        moreChannels.webhookInvalidation.publish({ eventName, kind: action.kind, userId, recorded: recorded[i] === true } satisfies WebhookInvalidationEvent);
      });
    }
    return recorded.every(Boolean);
  }

  /**
   * A user event naming no user the guard can identify: its cached grants are all flushed (the user's
   * may be among them), nothing is revoked, and the 400 shows as a failed delivery in GenAuth's log.
   */
  async function unidentified(eventName: string): Promise<WebhookAnswer> {
    const logger = guard.options.logger;
    if (!warned && logger !== false) {
      warned = true;
      // The event name is the sender's text: quoted and escaped (JSON) in log lines, so no line can be forged.
      logger.warn(`genauth-guard: webhook ${JSON.stringify(eventName)} names no user the guard can identify (genauth.userIdType "${scope.userIdType}"); nothing was revoked`);
    }
    // The 400 stands either way.
    await applyAll(eventName, [{ kind: 'invalidateAll' }]);
    return webhookAnswer(400, { eventName, actions: [{ kind: 'invalidateAll' }] });
  }

  /**
   * A delivery about another user pool (a webhook of another pool pointed here): nothing is done, as
   * for any event the guard does not act on (204, so GenAuth does not deliver it again), and one
   * warning goes to `logger`. Acting on it could revoke a user of this pool by another's email or phone.
   */
  function otherPool(eventName: string | undefined): WebhookAnswer {
    const logger = guard.options.logger;
    if (!warnedPool && logger !== false) {
      warnedPool = true;
      logger.warn(`genauth-guard: webhook ${eventName === undefined ? '(no event name)' : JSON.stringify(eventName)} names a user pool other than genauth.userPoolId; it was ignored (point the other pool's webhook elsewhere, or give it another secret)`);
    }
    return webhookAnswer(204, { eventName, ignored: 'other_user_pool' });
  }

  async function receive(input: WebhookInput): Promise<WebhookAnswer> {
    let answer: WebhookAnswer;
    try {
      answer = await handle(input);
    } catch {
      answer = webhookAnswer(500);
    }
    return told(answer);
  }

  return {
    maxBytes,
    screen(method, headers) {
      const early = check(method, headers);
      return early === undefined ? undefined : told(early);
    },
    refuse: (status, headers) => told(webhookAnswer(status, headers === undefined ? {} : { headers })),
    receive,
  };
}

/** Publishes a delivery's answer: on `genauth-guard:webhook`, and on `:rejected` when refused. */
function told(answer: WebhookAnswer): WebhookAnswer {
  if (channels.webhook.hasSubscribers) channels.webhook.publish(eventOf(answer));
  if (answer.status >= 400 && moreChannels.webhookRejected.hasSubscribers) {
    moreChannels.webhookRejected.publish({ eventName: answer.eventName, status: answer.status, reason: rejectReason(answer) } satisfies WebhookRejectedEvent);
  }
  return answer;
}

const REJECT_REASONS: Readonly<Record<number, WebhookRejectReason>> = {
  400: 'malformed',
  401: 'bad_secret',
  405: 'method_not_allowed',
  413: 'too_large',
  415: 'unsupported_media_type',
  503: 'not_recorded',
};

function rejectReason(answer: WebhookAnswer): WebhookRejectReason {
  // The only 400 that carries an action: a user event naming no user the guard can identify.
  if (answer.status === 400 && answer.actions.length > 0) return 'unidentified_user';
  return REJECT_REASONS[answer.status] ?? 'internal';
}

function eventOf(answer: WebhookAnswer): WebhookEvent {
  return {
    eventName: answer.eventName,
    status: answer.status,
    invalidatedUsers: answer.actions.filter((action) => action.kind === 'invalidateUser').length,
    revokedUsers: answer.actions.filter((action) => action.kind === 'revokeUser').length,
    invalidatedAll: answer.actions.some((action) => action.kind === 'invalidateAll'),
    ...(answer.ignored === undefined ? {} : { ignored: answer.ignored }),
  };
}
