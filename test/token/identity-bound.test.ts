// The user id taken from a verified token is bounded and plain before it reaches GenAuth: a 64 KiB
// `sub` once went upstream and ended as a 503. Over real HTTP: an Express app, the emulator upstream.
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type GuardOptions } from '../../src/adapters/express.js';
import { createGuard } from '../../src/index.js';
import { RESOURCES, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guards: ExpressGuard[] = [];
let servers: Server[] = [];

beforeEach(() => {
  emulator().clearGrants();
  emulator().resetCalls();
});
afterEach(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  guards = [];
  servers = [];
});

/** An app on port 0 whose server takes headers up to 256 KiB, as an app behind a permissive proxy may. */
async function appWith(identity?: GuardOptions['identity']): Promise<string> {
  const guard = createExpressGuard({ ...emulator().guardOptions(), ...(identity === undefined ? {} : { identity }) });
  guards.push(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  const server = createServer({ maxHeaderSize: 256 * 1024 }, app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const bearerWithSub = async (sub: string) => `Bearer ${await emulator().mintToken('ignored', { claims: { sub } })}`;

describe('the user id is bounded (identity.maxLength, UTF-8 bytes)', () => {
  it('an 8 KiB sub is a 401 invalid_token and nothing is asked upstream', async () => {
    // 8 KiB, not the 64 KiB of the report: a token past 16384 characters is refused before its claims are read (token-length-bound.test.ts).
    const res = await request(await appWith()).get('/r').set('authorization', await bearerWithSub('a'.repeat(8 * 1024)));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('the default bound is 1024 bytes, counted in UTF-8', async () => {
    const app = await appWith();
    emulator().setGrants('é'.repeat(512), [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    // 512 two-byte characters: exactly 1024 bytes, accepted and asked upstream.
    expect((await request(app).get('/r').set('authorization', await bearerWithSub('é'.repeat(512)))).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(1);
    // 513 characters (1026 bytes, under 1024 UTF-16 units): refused before any call.
    const res = await request(app).get('/r').set('authorization', await bearerWithSub('é'.repeat(513)));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('identity.maxLength moves the bound', async () => {
    const app = await appWith({ maxLength: 8 });
    emulator().setGrants('12345678', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    expect((await request(app).get('/r').set('authorization', await bearerWithSub('12345678'))).status).toBe(200);
    expect((await request(app).get('/r').set('authorization', await bearerWithSub('123456789'))).status).toBe(401);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it.each([
    ['a line feed', 'ali\nce'],
    ['a NUL', 'alice\u0000'],
    ['a DEL', 'alice\u007f'],
    ['a C1 control', 'alice\u0085'],
    ['a lone surrogate', 'alice\ud800'],
    ['a leading space', ' alice'],
    ['a trailing space', 'alice '],
    ['nothing but whitespace', '   '],
  ])('a user id with %s is a 401 invalid_token, nothing asked upstream', async (_name, sub) => {
    const res = await request(await appWith()).get('/r').set('authorization', await bearerWithSub(sub));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it.each([0, -1, 1.5, Number.POSITIVE_INFINITY, '1024', null])('identity.maxLength %s is a TypeError naming the option', (maxLength) => {
    const options = { ...emulator().guardOptions(), identity: { maxLength } } as unknown as GuardOptions;
    expect(() => createGuard(options)).toThrow(TypeError);
    expect(() => createGuard(options)).toThrow('option "identity.maxLength"');
  });
});
