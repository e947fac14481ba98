// The webhook route on Express, over real HTTP, against the emulator: the secret, the body forms, the
// statuses, and the invalidations and revocations a delivery makes (seen on the next request).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request, type Response } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { RESOURCES, bearerFor, nextSecond, seedStandardTenant, useEmulator } from '../fixtures.js';
import { chunked, eventBody, formBody, jsonHeaders, post } from './http.js';

const SECRET = 'whsec-0123456789abcdef';
const emulator = useEmulator();

let guard: ExpressGuard;
let server: Server;
let port: number;

let warnings: string[];

async function start(configure: (app: Express) => void = () => {}, maxBytes?: number): Promise<void> {
  warnings = [];
  guard = createExpressGuard({ ...emulator().guardOptions(), logger: { warn: (line) => void warnings.push(line) } });
  const app = express();
  configure(app);
  app.post('/hooks/genauth', guard.webhook({ secret: SECRET, ...(maxBytes === undefined ? {} : { maxBytes }) }));
  app.get('/reports', guard.requirePermission('reports', { anyOf: ['reports:Read', 'reports:Admin'] }), (req: Request, res: Response) => {
    res.json({ user: req.genauth?.identity.userId });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
}

beforeEach(() => seedStandardTenant(emulator()));
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await guard.close();
});

const reports = async (authorization: string) => (await post(port, '/reports', { method: 'GET', headers: { authorization } })).status;
const deliver = (body: string, headers: Record<string, string> = jsonHeaders(SECRET)) => post(port, '/hooks/genauth', { headers, body });

describe('Express webhook route: the secret', () => {
  beforeEach(() => start());

  it.each(['x-authing-webhook-secret', 'x-genauth-webhook-secret', 'x-authing-token', 'x-genauth-token'])('takes the secret in %s', async (name) => {
    const answer = await deliver(eventBody('user:updated'), { 'content-type': 'application/json', [name]: SECRET });
    expect(answer.status).toBe(204);
    expect(answer.body).toBe('');
  });

  it.each([
    ['a wrong secret', { 'x-authing-webhook-secret': `${SECRET}x` }],
    ['no secret', {}],
    ['a secret differing in one header', { 'x-authing-webhook-secret': SECRET, 'x-genauth-token': 'something-else-entirely' }],
    ['a repeated secret header', { 'x-authing-webhook-secret': [SECRET, SECRET] }],
  ])('answers 401 to %s and never echoes it', async (_name, secretHeaders) => {
    const answer = await post(port, '/hooks/genauth', { headers: { 'content-type': 'application/json', ...secretHeaders }, body: eventBody('user:blocked', { user: { id: 'alice' } }) });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).not.toContain(SECRET);
    // Nothing was revoked.
    expect(await reports(await bearerFor(emulator(), 'alice'))).toBe(200);
  });
});

describe('Express webhook route: bodies and statuses', () => {
  beforeEach(() => start());

  it.each([
    ['invalid JSON', '{"eventName": ', 'application/json'],
    ['a JSON array', '[1,2]', 'application/json'],
    ['a non-string eventName', JSON.stringify({ eventName: 42 }), 'application/json'],
    ['data that is not an object', JSON.stringify({ eventName: 'permission:add', data: [1] }), 'application/json'],
    ['a form whose data is not JSON', 'eventName=permission%3Aadd&data=%7Bnope', 'application/x-www-form-urlencoded'],
    ['a form with two eventNames', 'eventName=a&eventName=b', 'application/x-www-form-urlencoded'],
    ['bytes that are not UTF-8', '\u00ff', 'application/json; charset=latin1'],
  ])('answers 400 to %s', async (_name, body, type) => {
    const raw = type.includes('latin1') ? Buffer.from([0x7b, 0xff, 0x7d]) : body;
    const answer = await post(port, '/hooks/genauth', { headers: { ...jsonHeaders(SECRET), 'content-type': type }, body: raw });
    expect(answer.status).toBe(400);
  });

  it('answers 415 to a content type it does not read, and to a compressed body', async () => {
    expect((await deliver(eventBody('user:updated'), jsonHeaders(SECRET, { 'content-type': 'text/plain' }))).status).toBe(415);
    expect((await deliver(eventBody('user:updated'), jsonHeaders(SECRET, { 'content-encoding': 'gzip' }))).status).toBe(415);
  });

  it('answers 413 to a body over the limit, declared or chunked, and stays usable', async () => {
    const declared = await deliver(JSON.stringify({ eventName: 'permission:add', data: { pad: 'a'.repeat(1024 * 1024) } }));
    expect(declared.status).toBe(413);
    const streamed = await post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET), body: chunked(1024 * 1024) });
    expect(streamed.status).toBe(413);
    expect((await deliver(eventBody('user:updated'))).status).toBe(204);
  });

  it('ignores an unknown event with 204 and no invalidation, and a body without eventName (the console test)', async () => {
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    const calls = emulator().callCount(RESOURCES);
    expect((await deliver(eventBody('login', { id: 'alice' }))).status).toBe(204);
    expect((await deliver(JSON.stringify({ description: 'A test from GenAuth Webhook' }))).status).toBe(204);
    expect(await reports(alice)).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(calls);
  });
});

describe('Express webhook route: a body a parser read', () => {
  it('answers 400, not 500, to one nested too deep to measure against maxBytes', async () => {
    await start((app) => app.use(express.json({ limit: '1mb' })), 1024 * 1024);
    const deep = `{"eventName":"role:updated","data":{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
    const answer = await deliver(deep);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
  });

  it('answers 400 to a form (express.urlencoded) whose data is a JSON text naming a key twice, revoking no one', async () => {
    await start((app) => app.use(express.urlencoded({ extended: false })));
    const bob = await bearerFor(emulator(), 'bob');
    expect(await reports(bob)).toBe(200);
    const data = encodeURIComponent('{"user":{"userId":"alice","userId":"bob"}}');
    const answer = await deliver(`eventName=user%3Ablocked&data=${data}`, jsonHeaders(SECRET, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(await reports(bob)).toBe(200);
  });
});

describe('Express webhook route: invalidations', () => {
  it.each([
    ['JSON', (data: Record<string, unknown>) => deliver(eventBody('permission:revoke', data))],
    ['form-encoded', (data: Record<string, unknown>) => deliver(formBody('permission:revoke', data), jsonHeaders(SECRET, { 'content-type': 'application/x-www-form-urlencoded' }))],
  ])('a %s permission:revoke for a user makes the next request of that user 403', async (_name, send) => {
    await start();
    const alice = await bearerFor(emulator(), 'alice');
    const bob = await bearerFor(emulator(), 'bob');
    expect(await reports(alice)).toBe(200);
    expect(await reports(bob)).toBe(200);
    emulator().setGrants('alice', []);
    emulator().setGrants('bob', []);
    const answer = await send({ targetType: 'USER', targetIdentifiers: ['alice'], namespace: 'default', policyCodes: ['reports'] });
    expect(answer.status).toBe(204);
    expect(await reports(alice)).toBe(403);
    // Only alice was flushed: bob's cached grants still answer.
    expect(await reports(bob)).toBe(200);
  });

  it('a role event flushes everyone; an event naming another namespace flushes no one', async () => {
    await start();
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    emulator().setGrants('alice', []);
    expect((await deliver(eventBody('role:updated', { role: { code: 'admin', namespace: 'other-app' } }))).status).toBe(204);
    expect(await reports(alice)).toBe(200);
    expect((await deliver(eventBody('role:unassigned', { userIds: ['alice'], groupIds: [], nodeIds: [] }))).status).toBe(204);
    expect(await reports(alice)).toBe(403);
  });

  it('takes the body a parser already read (express.json and express.urlencoded)', async () => {
    await start((app) => {
      app.use(express.json());
      app.use(express.urlencoded({ extended: false }));
    });
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    emulator().setGrants('alice', []);
    expect((await deliver(eventBody('role:deleted', { id: 'r1' }))).status).toBe(204);
    expect(await reports(alice)).toBe(403);
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const form = jsonHeaders(SECRET, { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await deliver(formBody('permission:add', { targetType: 'USER', targetIdentifiers: ['alice'] }), form)).status).toBe(204);
    expect(await reports(alice)).toBe(200);
  });
});

describe('Express webhook route: revocation', () => {
  it.each([
    ['user:blocked', { user: { id: 'alice', status: 'Suspended' } }],
    ['user:archived', { user: { userId: 'alice' } }],
    ['user:deleted', { users: [{ id: 'alice' }] }],
    ['user:deleted', { users: ['alice'] }],
  ])('%s %j: the user\'s tokens are 401 revoked, cached or not; a token issued later passes', async (eventName, data) => {
    await start();
    const cached = await bearerFor(emulator(), 'alice');
    expect(await reports(cached)).toBe(200);
    const noIat = await bearerFor(emulator(), 'alice', { claims: { iat: undefined } });
    // At the start of a second, so the delivery and the token issued "in its second" below share it.
    await nextSecond(Date.now());
    const delivered = Date.now();
    expect((await deliver(eventBody(eventName, data))).status).toBe(204);
    const refused = await post(port, '/reports', { method: 'GET', headers: { authorization: cached } });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_INVALID_TOKEN', detail: 'The token has been revoked' });
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    // Issued in the delivery's second: not after it. (Its iat is that second's, not the time of minting:
    // a loaded machine could cross into the next second between the delivery and here.)
    const sameSecond = await bearerFor(emulator(), 'alice', { claims: { iat: Math.floor(delivered / 1000) } });
    expect(await reports(sameSecond)).toBe(401);
    expect(await reports(noIat)).toBe(401);
    const later = await bearerFor(emulator(), 'alice', { claims: { iat: Math.floor(Date.now() / 1000) + 1 } });
    expect(await reports(later)).toBe(200);
    expect(await reports(await bearerFor(emulator(), 'bob'))).toBe(200);
  });

  it('answers 400 to a user event naming no user, revoking nothing, with one warning', async () => {
    await start();
    expect((await deliver(eventBody('user:blocked', { user: { name: 'who' } }))).status).toBe(400);
    expect((await deliver(eventBody('user:deleted', { users: [] }))).status).toBe(400);
    expect(await reports(await bearerFor(emulator(), 'alice'))).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('user:blocked');
    expect(warnings[0]).not.toContain(SECRET);
  });
});

describe('Express webhook route: writing the answer fails', () => {
  // Writing the answer happens after a wait (reading the body, making the invalidations): a throw there
  // left a rejected promise nobody handled, which Node's default mode turns into a crash of the server.
  const unhandled: unknown[] = [];
  const recordUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeEach(() => void process.on('unhandledRejection', recordUnhandled));
  afterEach(() => void process.off('unhandledRejection', recordUnhandled));

  it('hands the failure to Express (its error handler answers) and the invalidations stand', async () => {
    let handed: unknown;
    await start((app) => {
      app.use('/hooks', (_req: Request, res: Response, next: () => void) => {
        // An app's own response helper that breaks, as a misconfigured one can.
        res.set = () => {
          throw new Error('set is broken');
        };
        next();
      });
    });
    const errorHandlerApp = server.listeners('request')[0] as Express;
    errorHandlerApp.use((error: unknown, _req: Request, res: Response, _next: unknown) => {
      handed = error;
      res.statusCode = 500;
      res.end();
    });
    const cached = await bearerFor(emulator(), 'alice');
    expect(await reports(cached)).toBe(200);
    const answer = await deliver(eventBody('user:blocked', { user: { id: 'alice' } }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
    expect(answer.status).toBe(500);
    expect((handed as Error).message).toBe('set is broken');
    expect((await post(port, '/reports', { method: 'GET', headers: { authorization: cached } })).status).toBe(401);
  });
});
