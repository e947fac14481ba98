/**
 * The webhook route on every adapter, over real HTTP: a change in the emulator goes out as GenAuth's
 * webhook, reaches the app's webhook route, and the very next request sees it (no waiting for `ttl`).
 * Each row mounts its adapter's own helper (see `AppFixture.webhook` in ./row.ts).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { bearerFor, seedStandardTenant } from '../fixtures.js';
import { chunked, eventBody, formBody, jsonHeaders, post } from '../webhooks/http.js';
import { express4Row, express5Row } from './apps/express.js';
import { fastifyRow } from './apps/fastify.js';
import { koa2Row, koaRow } from './apps/koa.js';
import { nestExpressRow } from './apps/nest-express.js';
import { nestFastifyRow } from './apps/nest-fastify.js';
import type { AdapterRow, RunningApp } from './row.js';

const ROWS: AdapterRow[] = [express4Row, express5Row, koaRow, koa2Row, fastifyRow, nestExpressRow, nestFastifyRow];
const SECRET = 'whsec-conformance-0123456789';
const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

let emulator: GenAuthEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe.each(ROWS)('$name webhook route', (row) => {
  let app: RunningApp;
  let unsubscribe: (() => void) | undefined;

  beforeEach(async () => {
    seedStandardTenant(emulator);
    await emulator.webhooksSettled();
    app = await row.start({ options: emulator.guardOptions(), handled: () => {}, webhook: { secret: SECRET } });
  });
  afterEach(async () => {
    unsubscribe?.();
    unsubscribe = undefined;
    await app.close();
  });

  const path = () => app.webhookPath as string;
  const subscribe = (contentType: (typeof CONTENT_TYPES)[number]) => {
    unsubscribe = emulator.addWebhook({ url: `http://127.0.0.1:${app.port}${path()}`, secret: SECRET, contentType });
  };
  const reports = (authorization: string) => post(app.port, '/api/v1/reports', { method: 'GET', headers: { authorization } });
  const deliveredStatuses = () => emulator.webhookDeliveries.filter((d) => d.url.endsWith(`:${app.port}${path()}`)).map((d) => d.status);

  it.each(CONTENT_TYPES)('a grant revoked in the emulator (%s webhook) is a 403 on the next request', async (contentType) => {
    subscribe(contentType);
    const alice = await bearerFor(emulator, 'alice');
    expect((await reports(alice)).status).toBe(200);
    emulator.setGrants('alice', [{ resourceCode: 'disk:*', actions: ['*'] }]);
    await emulator.webhooksSettled();
    expect(deliveredStatuses()).toEqual([204, 204]); // permission:revoke, then permission:add
    expect((await reports(alice)).status).toBe(403);
  });

  it('a role change flushes everyone', async () => {
    subscribe('application/json');
    const bob = await bearerFor(emulator, 'bob');
    expect((await reports(bob)).status).toBe(200);
    emulator.setRawGrants('bob', []);
    emulator.clearGrants(); // a test-kit reset: no event, the cache still answers
    emulator.addUser('bob');
    expect((await reports(bob)).status).toBe(200);
    emulator.assignRole('bob', 'viewer');
    await emulator.webhooksSettled();
    expect((await reports(bob)).status).toBe(403);
  });

  it('a blocked user is a 401 revoked at once, cached token or not; a token issued later passes', async () => {
    subscribe('application/json');
    const alice = await bearerFor(emulator, 'alice');
    expect((await reports(alice)).status).toBe(200);
    emulator.blockUser('alice');
    await emulator.webhooksSettled();
    expect(deliveredStatuses()).toEqual([204]);
    const refused = await reports(alice);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_INVALID_TOKEN', detail: 'The token has been revoked' });
    emulator.unblockUser('alice');
    await emulator.webhooksSettled();
    const later = await bearerFor(emulator, 'alice', { claims: { iat: Math.floor(Date.now() / 1000) + 1 } });
    expect((await reports(later)).status).toBe(200);
  });

  it('the secret is taken in each header GenAuth documents for it (emulator secretHeader)', async () => {
    for (const secretHeader of ['x-authing-webhook-secret', 'x-genauth-webhook-secret', 'x-authing-token', 'x-genauth-token'] as const) {
      const remove = emulator.addWebhook({ url: `http://127.0.0.1:${app.port}${path()}`, secret: SECRET, secretHeader });
      emulator.blockUser('carol');
      await emulator.webhooksSettled();
      remove();
    }
    expect(deliveredStatuses()).toEqual([204, 204, 204, 204]);
  });

  it('a deleted user is a 401 revoked', async () => {
    subscribe('application/x-www-form-urlencoded');
    const bob = await bearerFor(emulator, 'bob');
    expect((await reports(bob)).status).toBe(200);
    emulator.deleteUser('bob');
    await emulator.webhooksSettled();
    expect((await reports(bob)).status).toBe(401);
  });

  it('a bad secret is a 401 and changes nothing', async () => {
    const alice = await bearerFor(emulator, 'alice');
    expect((await reports(alice)).status).toBe(200);
    const answer = await post(app.port, path(), { headers: jsonHeaders('not-the-secret-at-all'), body: eventBody('user:blocked', { user: { id: 'alice' } }) });
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain(SECRET);
    expect((await reports(alice)).status).toBe(200);
  });

  it.each([
    ['JSON', '{"eventName":', 'application/json'],
    ['form', 'eventName=permission%3Aadd&data=%7B', 'application/x-www-form-urlencoded'],
  ])('a malformed %s body is a 400', async (_name, body, type) => {
    expect((await post(app.port, path(), { headers: jsonHeaders(SECRET, { 'content-type': type }), body })).status).toBe(400);
  });

  it('a body over the limit is a 413, declared or chunked', async () => {
    const huge = JSON.stringify({ eventName: 'permission:add', data: { pad: 'a'.repeat(1024 * 1024) } });
    expect((await post(app.port, path(), { headers: jsonHeaders(SECRET), body: huge })).status).toBe(413);
    expect((await post(app.port, path(), { headers: jsonHeaders(SECRET), body: chunked(256 * 1024) })).status).toBe(413);
  });

  it('an unknown event is a 204 and changes nothing; so is a well-formed form delivery', async () => {
    const alice = await bearerFor(emulator, 'alice');
    expect((await reports(alice)).status).toBe(200);
    expect((await post(app.port, path(), { headers: jsonHeaders(SECRET), body: eventBody('login', { id: 'alice' }) })).status).toBe(204);
    const form = jsonHeaders(SECRET, { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await post(app.port, path(), { headers: form, body: formBody('user:updated', { user: { id: 'alice' } }) })).status).toBe(204);
    expect((await reports(alice)).status).toBe(200);
  });
});
