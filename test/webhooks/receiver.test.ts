// The framework-neutral receiver and its event table: which events do what, the secret headers,
// parsed bodies, and the answers it never throws instead of.
import diagnostics from 'node:diagnostics_channel';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, createWebhookReceiver, type Guard, type WebhookEvent } from '../../src/index.js';
import { planEvent, WEBHOOK_EVENTS } from '../../src/webhooks/events.js';
import { useEmulator } from '../fixtures.js';

const SECRET = 'whsec-0123456789abcdef';
const emulator = useEmulator();
const guards: Guard[] = [];
afterAll(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
});

const scope = { namespace: 'default', userIdType: 'user_id' as const };
const all = { actions: [{ kind: 'invalidateAll' }] };
const users = (...ids: string[]) => ({ actions: ids.map((userId) => ({ kind: 'invalidateUser', userId })) });
const revoked = (...ids: string[]) => ({ actions: ids.map((userId) => ({ kind: 'revokeUser', userId })) });

describe('the event table', () => {
  it.each([
    ['permission:add', { targetType: 'USER', targetIdentifiers: ['u1', 'u2', 'u1'], namespace: 'default' }, users('u1', 'u2')],
    ['permission:revoke', { targetType: 'user', targetIdentifiers: ['u1'] }, users('u1')],
    ['permission:add', { targetType: 'ROLE', targetIdentifiers: ['admin'], namespace: 'default' }, all],
    ['permission:add', { targetType: 'USER', targetIdentifiers: 'u1' }, all],
    ['permission:add', { targetType: 'USER', targetIdentifiers: [] }, all],
    ['permission:add', { targetType: 'USER', targetIdentifiers: Array.from({ length: 101 }, (_, i) => `u${i}`) }, all],
    ['permission:revoke', { targetType: 'USER', targetIdentifiers: ['u1'], namespace: 'other' }, undefined],
    ['role:created', { role: { code: 'r' }, namespace: 'default' }, all],
    ['role:add', { role: { code: 'r', namespace: 'other' } }, undefined],
    ['role:delete', {}, all],
    ['role:deleted', {}, all],
    ['role:assigned', { userIds: ['u1'], groupIds: [], nodeIds: [] }, all],
    ['group:member-removed', { group: { code: 'g' }, users: [{ id: 'u1' }] }, all],
    ['organization:node-moved', { node: { id: 'n' } }, all],
    ['user:organization-node-update', {}, all],
    ['resource:delete', { codes: ['x'], namespace: 'default' }, all],
    ['resource:updated', { resource: { code: 'x', namespace: 'other' } }, undefined],
    ['privilege-namespace:updated', { namespace: { code: 'default' } }, all],
    ['privilege-namespace:deleted', { namespaces: ['a', 'default'] }, all],
    ['privilege-namespace:deleted', { namespaces: [{ code: 'a' }] }, undefined],
    ['data-strategy-permission:revoke', {}, all],
    ['user:blocked', { user: { id: 'u1', userId: 'u1' } }, revoked('u1')],
    ['user:archived', { user: { userId: 'u2', id: 'legacy-2' } }, revoked('u2', 'legacy-2')],
    ['user:deleted', { users: [{ id: 'u1' }, 'u3'] }, revoked('u1', 'u3')],
    ['user:deleted', { users: [] }, { unidentified: true }],
    ['user:unblocked', { user: { id: 'u1' } }, undefined],
    ['login', { id: 'u1' }, undefined],
    ['privilege-namespace:created', { namespace: { code: 'default' } }, undefined],
  ])('%s %j', (eventName, data, expected) => {
    expect(planEvent(eventName, data, scope)).toEqual(expected);
  });

  it('names the events of GENAUTH-PROTOCOL 5.1 in both spellings', () => {
    for (const name of ['role:created', 'role:add', 'role:deleted', 'role:delete', 'permission:add', 'user:blocked']) expect(WEBHOOK_EVENTS.has(name)).toBe(true);
  });

  it.each([
    ['email', { user: { id: 'u1', email: 'a@example.com' } }, revoked('a@example.com')],
    ['phone', { users: ['u1', { id: 'u2', phone: '+100' }] }, revoked('+100')],
    ['external_id', { user: { id: 'u1', externalId: 'ext-1' } }, revoked('ext-1')],
    ['custom_field', { user: { id: 'u1' } }, { unidentified: true }],
  ] as const)('with userIdType %s, user events are mapped to the guard\'s ids', (userIdType, data, expected) => {
    expect(planEvent('user:blocked', data, { namespace: 'default', userIdType })).toEqual(expected);
    // Grants to users name GenAuth user ids: not the guard's keys, so everything is flushed.
    expect(planEvent('permission:add', { targetType: 'USER', targetIdentifiers: ['u1'] }, { namespace: 'default', userIdType })).toEqual(all);
  });
});

describe('the receiver', () => {
  const receiverOf = (options: Parameters<typeof createWebhookReceiver>[1] = { secret: SECRET }, guard?: Guard) => {
    const core = guard ?? createGuard(emulator().guardOptions());
    guards.push(core);
    return createWebhookReceiver(core, options);
  };
  const json = (eventName: string, data: unknown, secret = SECRET) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-authing-webhook-secret': secret },
    body: Buffer.from(JSON.stringify({ eventName, data })),
  });

  it('answers 405 with Allow to another method, before the secret', async () => {
    const answer = await receiverOf().receive({ method: 'GET', headers: {}, body: undefined });
    expect([answer.status, answer.headers.allow]).toEqual([405, 'POST']);
  });

  it('accepts any secret of a rotation list, and a body a framework parsed', async () => {
    const receiver = receiverOf({ secret: ['old-secret-0123456789', SECRET] });
    expect((await receiver.receive(json('role:updated', {}, 'old-secret-0123456789'))).status).toBe(204);
    const parsed = await receiver.receive({ method: 'POST', headers: { 'x-genauth-token': SECRET, 'content-length': '60' }, body: { eventName: 'role:updated', data: '{"role":{}}' } });
    expect(parsed).toMatchObject({ status: 204, eventName: 'role:updated', actions: [{ kind: 'invalidateAll' }] });
    expect((await receiver.receive({ ...json('role:updated', {}), body: undefined })).status).toBe(400);
    // Headers of another origin: names in any case; two spellings of one name are a repeated header.
    const mixed = { 'Content-Type': 'application/json', 'X-Authing-Webhook-Secret': SECRET };
    expect((await receiver.receive({ ...json('role:updated', {}), headers: mixed })).status).toBe(204);
    const twice = { ...mixed, 'x-authing-webhook-secret': SECRET };
    expect((await receiver.receive({ ...json('role:updated', {}), headers: twice })).status).toBe(401);
  });

  // A parsed body is held to what JSON.parse could have made (the adapters' HTTP tests are in parsed-bodies.test.ts).
  const hidden = Object.create({ data: { user: { userId: 'u1' } } }) as Record<string, unknown>;
  hidden.eventName = 'user:blocked';
  const shared = { userId: 'u1' };
  it.each([
    // eslint-disable-next-line no-sparse-arrays
    ['an array with a hole', { eventName: 'user:blocked', data: { users: [, 'u1'] } }],
    ['NaN', { eventName: 'user:blocked', data: { user: { userId: 'u1', n: Number.NaN } } }],
    ['an undefined value', { eventName: 'user:blocked', data: { user: { userId: 'u1', n: undefined } } }],
    ['a function value', { eventName: 'user:blocked', data: { user: { userId: 'u1', f: () => 1 } } }],
    ['a symbol key', { eventName: 'user:blocked', data: { user: { userId: 'u1', [Symbol('s')]: 1 } } }],
    ['a getter', { eventName: 'user:blocked', data: { get user() { return { userId: 'u1' }; } } }],
    ['a non-enumerable field', Object.defineProperty({ eventName: 'user:blocked' }, 'data', { value: { user: { userId: 'u1' } }, enumerable: false })],
    ['an object reached twice', { eventName: 'user:blocked', data: { user: shared, users: [shared] } }],
    ['a Date', { eventName: 'user:blocked', data: { user: { userId: 'u1', at: new Date(0) } } }],
    ['a Map', new Map([['eventName', 'user:blocked']])],
    ['fields on its prototype', hidden],
  ])('refuses a parsed body holding %s: 400, nothing done', async (_case, body) => {
    const answer = await receiverOf().receive({ method: 'POST', headers: { 'content-type': 'application/json', 'x-authing-webhook-secret': SECRET }, body: body as Record<string, unknown> });
    expect([answer.status, answer.actions]).toEqual([400, []]);
  });

  it('takes a parsed body without a prototype, or with empty ones (a fast form parser\'s)', async () => {
    const receiver = receiverOf();
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { eventName: 'user:blocked', data: JSON.stringify({ user: { userId: 'u1' } }) });
    const empty = Object.assign(Object.create(Object.create(null) as object) as Record<string, unknown>, { eventName: 'user:blocked', data: JSON.stringify({ user: { userId: 'u2' } }) });
    for (const [body, userId] of [[bare, 'u1'], [empty, 'u2']] as const) {
      const answer = await receiver.receive({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-authing-webhook-secret': SECRET }, body });
      expect(answer).toMatchObject({ status: 204, actions: [{ kind: 'revokeUser', userId }] });
    }
  });

  it('answers 503 with Retry-After when an invalidation cannot be recorded, and never throws', async () => {
    // The guard itself, its invalidations failing (a copy of it is refused: it could not tell a close()).
    const guard = createGuard(emulator().guardOptions());
    const failing: Guard = Object.assign(guard, { invalidateAll: () => Promise.reject(new Error('store down')), revokeUser: () => { throw new Error('boom'); } });
    const receiver = receiverOf({ secret: SECRET }, failing);
    const answer = await receiver.receive(json('role:updated', {}));
    expect([answer.status, answer.headers['retry-after']]).toEqual([503, '5']);
    expect((await receiver.receive(json('user:blocked', { user: { id: 'u1' } }))).status).toBe(503);
    const hostile = { method: 'POST', get headers(): never { throw new Error('hostile'); }, body: undefined };
    expect((await receiver.receive(hostile)).status).toBe(500);
  });

  it('publishes each delivery on genauth-guard:webhook, never the secret', async () => {
    const seen: WebhookEvent[] = [];
    const listener = (event: unknown) => void seen.push(event as WebhookEvent);
    diagnostics.subscribe('genauth-guard:webhook', listener);
    try {
      const receiver = receiverOf();
      await receiver.receive(json('user:blocked', { user: { id: 'u9' } }));
      await receiver.receive(json('role:updated', {}, 'wrong-secret-0123456789'));
    } finally {
      diagnostics.unsubscribe('genauth-guard:webhook', listener);
    }
    expect(seen).toEqual([
      { eventName: 'user:blocked', status: 204, invalidatedUsers: 0, revokedUsers: 1, invalidatedAll: false },
      { eventName: undefined, status: 401, invalidatedUsers: 0, revokedUsers: 0, invalidatedAll: false },
    ]);
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });

  it.each([
    [{}, 'webhook.secret'],
    [{ secret: 'short' }, 'webhook.secret'],
    [{ secret: [] }, 'webhook.secret'],
    [{ secret: [SECRET, 42] }, 'webhook.secret[1]'],
    // eslint-disable-next-line no-sparse-arrays
    [{ secret: [, SECRET] }, 'webhook.secret[0]'],
    // A header value cannot carry these (HTTP trims the ends, refuses control characters): never a match.
    [{ secret: ' '.repeat(16) }, 'webhook.secret'],
    [{ secret: `${SECRET}\n` }, 'webhook.secret'],
    [{ secret: [SECRET, ` ${SECRET}`] }, 'webhook.secret[1]'],
    [{ secret: `${SECRET}\u0000x` }, 'webhook.secret'],
    [{ secret: SECRET, maxBytes: 0 }, 'webhook.maxBytes'],
    [{ secret: SECRET, maxbytes: 10 }, 'webhook.maxbytes'],
  ])('refuses the options %j naming %s, never quoting the secret', (options, path) => {
    let error: unknown;
    try {
      receiverOf(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(`genauth-guard: option "${path}"`);
    expect((error as Error).message).not.toContain('short');
  });
});
