// A revocation made while an instance's subscription was down never reaches that instance as a message,
// and its resync drops caches but learns no record. So a request that was waiting on its decision (the
// conditions context here) across the outage, or that started during it, must read its user's record
// from Redis before it is allowed: otherwise it is decided on the instance's local copy, which never
// heard of the revocation (a 200 for a revoked user). Two real instances (Express apps, each its own
// guard and node-redis client) on one redis-server. Instance A's client logs in as an ACL user of its
// own: with that user off and A's subscriber killed, A is deaf, and stays so, while B revokes.
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { bearerFor, useEmulator, resetEmulator } from '../fixtures.js';
import { clients, freshPrefix, sharedOptions, startInstance, subscribed, until, wrappedClient, type Instance } from './harness.js';
import { ask, redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/revocation-across-resync.test.ts');

const USER = 'guard-a';
const PASSWORD = 'guard-a-password-0123';
const LAPTOP = [{ param: 'Device', operator: 'StringEquals', value: 'laptop' }];

/** Instance A: a route and API mode, both decided after the conditions context, which the test holds. */
interface Waiting {
  readonly guard: ExpressGuard;
  /** GET /r (route) or /api/reports (API mode) with `auth`: status, code and WWW-Authenticate. */
  request(kind: 'route' | 'api', auth: string, device?: string): Promise<{ status: number; code: string | undefined; challenge: string | null; retryAfter: string | null }>;
  /** Resolves once a request is waiting on the context. */
  entered(): Promise<void>;
  /** Lets every waiting request go on; from then on the context answers at once. */
  release(): void;
}

describe.skipIf(!run)('a revocation published while the subscription was down', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let closing: Array<() => Promise<void>> = [];
  let prefix = '';
  let alice = '';

  beforeEach(async () => {
    prefix = freshPrefix();
    const e = emulator();
    resetEmulator(e);
    e.unblockUser('alice');
    e.setGrants('alice', [
      { resourceCode: 'reports', actions: ['reports:Read'], condition: LAPTOP },
      { resourceCode: 'reports-api', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/reports', condition: LAPTOP },
    ]);
    alice = await bearerFor(e, 'alice');
    expect(await ask(redis().port, `ACL SETUSER ${USER} reset on >${PASSWORD} ~* &* +@all`)).toMatch(/^\+OK/);
  });
  afterEach(async () => {
    await Promise.all(closing.map((close) => close()));
    closing = [];
    open.closeAll();
    await ask(redis().port, `ACL DELUSER ${USER}`);
  });

  /** `read`: sees each GET of A's client (its key) before it is sent, with A's guard. */
  async function instanceA(redisTimeout = 1000, logged: string[] | undefined = undefined, read?: (key: string, guard: ExpressGuard) => void): Promise<Waiting> {
    const connected = await open.client(`redis://${USER}:${PASSWORD}@127.0.0.1:${redis().port}`);
    const client = read === undefined ? connected : wrappedClient(connected, { read: (key) => read(key, guard) });
    let opened: () => void = () => {};
    const gate = new Promise<void>((resolve) => (opened = resolve));
    let waiting = 0;
    const guard = createExpressGuard(
      sharedOptions(emulator(), client, { redisPrefix: prefix, redisTimeout }, {
        ...(logged === undefined ? {} : { logger: { warn: (line: string) => void logged.push(line) } }),
        conditions: {
          // The device is the request's X-Device header (laptop without one): a phone is refused (403).
          context: async ({ request }) => {
            waiting++;
            await gate;
            const device = request?.headers['x-device'];
            return { Device: typeof device === 'string' ? device : 'laptop' };
          },
        },
      }),
    );
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.use('/api', guard.api());
    app.get('/api/reports', (_req, res) => void res.send('ok'));
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const close = async () => {
      opened();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await guard.close();
    };
    closing.push(close);
    await subscribed(guard);
    return {
      guard,
      async request(kind, auth, device) {
        const headers: Record<string, string> = { authorization: auth, ...(device === undefined ? {} : { 'x-device': device }) };
        const response = await fetch(`${url}${kind === 'route' ? '/r' : '/api/reports'}`, { headers });
        const text = await response.text();
        const code = response.headers.get('content-type')?.includes('json') === true ? (JSON.parse(text) as { code?: string }).code : undefined;
        return { status: response.status, code, challenge: response.headers.get('www-authenticate'), retryAfter: response.headers.get('retry-after') };
      },
      entered: () => until(() => waiting > 0, 5000, 'a request waiting on the context'),
      release: () => opened(),
    };
  }

  async function instanceB(): Promise<Instance> {
    const b = await startInstance(sharedOptions(emulator(), await open.client(redis().url), { redisPrefix: prefix }));
    closing.push(() => b.close());
    await subscribed(b.guard);
    return b;
  }

  /** A's subscriber killed, and kept from coming back (its ACL user off; its other connection stays logged in). */
  async function deafen(a: Waiting): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} off`)).toMatch(/^\+OK/);
    expect(await ask(redis().port, `CLIENT KILL TYPE pubsub USER ${USER}`)).toMatch(/^:1/);
    await until(() => a.guard.cacheStats().redis?.subscribed === false, 5000, "A's subscription down");
  }

  /** A's user on again (`rules`: and changed): its subscriber reconnects, and A resyncs. */
  async function resync(a: Waiting, rules = ''): Promise<void> {
    expect(await ask(redis().port, `ACL SETUSER ${USER} on ${rules}`)).toMatch(/^\+OK/);
    await subscribed(a.guard);
  }

  it.each(['route', 'api'] as const)('%s: a request waiting across the outage and the resync is refused as revoked (401)', async (kind) => {
    const a = await instanceA();
    const b = await instanceB();
    const answer = a.request(kind, alice);
    await a.entered();

    await deafen(a);
    await b.guard.revokeUser('alice');
    await resync(a);

    a.release();
    const response = await answer;
    expect(response).toMatchObject({ status: 401, code: 'ERR_INVALID_TOKEN' });
    expect(response.challenge).toContain('revoked');
    // The next request is refused too (the resync dropped the verified token; it is read again).
    expect(await a.request(kind, alice)).toMatchObject({ status: 401, code: 'ERR_INVALID_TOKEN' });
  });

  it.each(['route', 'api'] as const)('%s: a request that starts while the subscription is down, on the asynchronous path, is refused as revoked', async (kind) => {
    const a = await instanceA();
    const b = await instanceB();
    a.release();
    // Token verified and grants cached on A before the outage (conditional grants: always the async path).
    expect(await a.request(kind, alice)).toMatchObject({ status: 200 });

    await deafen(a);
    await b.guard.revokeUser('alice');
    const response = await a.request(kind, alice);
    expect(response).toMatchObject({ status: 401, code: 'ERR_INVALID_TOKEN' });
    expect(response.challenge).toContain('revoked');
  });

  it('a request waiting across a resync whose record Redis then refuses to read is a 503, never allowed, and the operator is told why', async () => {
    const logged: string[] = [];
    const a = await instanceA(1000, logged);
    const b = await instanceB();
    const answer = a.request('route', alice);
    await a.entered();

    await deafen(a);
    await b.guard.revokeUser('alice');
    // Back, but A may no longer GET (the record's read fails; PUBLISH, SUBSCRIBE and EVAL still work).
    await resync(a, '-get');

    a.release();
    const response = await answer;
    expect(response).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    expect(response.retryAfter).toMatch(/^\d+$/);
    // One line names this 503 (the tier's own warning, at the drop, speaks of the outage in general).
    const told = logged.filter((line) => line.includes('ERR_PERMISSIONS_UNAVAILABLE'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^genauth-guard: /);
    expect(told[0]).toContain('revocation record');
  });

  it.each(['route', 'api'] as const)('%s: a refusal (403) waiting across a resync is not made a 503 by a record Redis then refuses to read', async (kind) => {
    const a = await instanceA();
    await instanceB();
    const refused = a.request(kind, alice, 'phone');
    const allowed = a.request(kind, alice);
    await a.entered();

    await deafen(a);
    await resync(a, '-get');

    a.release();
    // Refusing is already the safe answer: no revocation record is needed to give it.
    expect(await refused).toMatchObject({ status: 403, code: 'ERR_PERMISSION_DENIED' });
    // The allowed path is unchanged: it cannot be told from a revoked one, so it is a 503.
    expect(await allowed).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  // close() while the request reads its user's record: the read is answered, but a closed guard judges
  // nothing, so the allowed decision it waited on is not given (the 503 every request of a closed guard gets).
  it.each(['route', 'api'] as const)('%s: a request reading its revocation record when close() is called gets the 503, not its decision', async (kind) => {
    let closeOnRead = false;
    const a = await instanceA(1000, undefined, (key, guard) => {
      if (!closeOnRead || !key.endsWith(':revoked')) return;
      closeOnRead = false;
      void guard.close();
    });
    await instanceB();
    a.release();
    // Token verified and grants cached on A before the outage (conditional grants: always the asynchronous path).
    expect(await a.request(kind, alice)).toMatchObject({ status: 200 });

    await deafen(a);
    closeOnRead = true;
    const response = await a.request(kind, alice);
    expect(closeOnRead).toBe(false); // the record was read, and the guard closed meanwhile
    expect(response).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  it('while the subscription is down, a record Redis cannot give is not an outage: the request is decided on the local copy', async () => {
    const a = await instanceA();
    await instanceB();
    a.release();
    expect(await a.request('route', alice)).toMatchObject({ status: 200 });

    await deafen(a);
    expect(await ask(redis().port, `ACL SETUSER ${USER} -get`)).toMatch(/^\+OK/);
    // Not revoked: Redis trouble never makes a 503 of its own while the instance is merely deaf.
    expect(await a.request('route', alice)).toMatchObject({ status: 200 });
  });
});
