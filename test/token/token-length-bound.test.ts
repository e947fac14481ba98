// How long a token the guard takes. Only the header path was bounded, by Node's header limit (16 KiB
// by default, else a 431); a token from getToken (a request body, a session store) had no bound, nor a
// header's on a server whose --max-http-header-size is raised: a token of megabytes was decoded, its
// signature checked and hashed, and, being validly signed, accepted. Now a token longer than 16384
// characters (Node's default header limit, so nothing that fits a default header is refused) is the
// 401 `malformed` a malformed token gets, before any decoding or key lookup, on every path. The check
// sits where a token is first verified: a cached token was checked when it was cached. Over real HTTP:
// Express apps, the emulator.
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

/** The documented bound, in characters. */
const MAX = 16_384;
const JWKS = '/oidc/.well-known/jwks.json';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

/** Reasons on the `genauth-guard:token` channel. */
const reasons: string[] = [];
const onToken = (message: unknown) => void reasons.push((message as { reason: string }).reason);
beforeAll(() => subscribe('genauth-guard:token', onToken));
afterAll(() => unsubscribe('genauth-guard:token', onToken));
beforeEach(() => {
  reasons.length = 0;
  emulator().resetCalls();
});

/**
 * A validly signed token for alice padded by a claim to a length near `length`: the longest one of at
 * most `length` characters (`atMost`), or the shortest one longer (`above`). Base64url reaches three
 * lengths in four, so the result is within 3 characters of `length`.
 */
async function tokenNear(length: number, side: 'atMost' | 'above'): Promise<string> {
  const mint = (pad: number) => emulator().mintToken('alice', { claims: { jti: randomUUID(), pad: 'x'.repeat(pad) } });
  const base = (await mint(0)).length;
  const estimate = Math.floor(((length - base) * 3) / 4);
  let best: string | undefined;
  for (let pad = Math.max(0, estimate - 6); pad <= estimate + 6; pad++) {
    const token = await mint(pad);
    const fits = side === 'atMost' ? token.length <= length : token.length > length;
    const better = best === undefined || (side === 'atMost' ? token.length > best.length : token.length < best.length);
    if (fits && better) best = token;
  }
  if (best === undefined) throw new Error('no token of that length');
  return best;
}

function guardWithBodyToken() {
  const guard = track(createExpressGuard({
    ...emulator().guardOptions(),
    getToken: (req) => (req.body as { token?: string } | undefined)?.token,
  }));
  const app = express();
  app.post('/me', express.json({ limit: '4mb' }), guard.authenticate(), (_req, res) => void res.send('ok'));
  return app;
}

const MALFORMED_CHALLENGE = (app: express.Express) => request(app).post('/me').send({ token: 'a.b' });

describe('a token from getToken (a request body)', () => {
  it('of 64 KiB, validly signed: 401 malformed, the key set never fetched', async () => {
    const app = guardWithBodyToken();
    const token = await tokenNear(64 * 1024, 'atMost');
    const answer = await request(app).post('/me').send({ token });
    // Before the fix: 200, after a JWKS fetch and the signature checked over 64 KiB.
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('ERR_INVALID_TOKEN');
    const malformed = await MALFORMED_CHALLENGE(app);
    expect(answer.headers['www-authenticate']).toBe(malformed.headers['www-authenticate']);
    expect(reasons).toEqual(['malformed', 'malformed']);
    expect(emulator().callCount(JWKS)).toBe(0);
    // A text of megabytes is refused the same way.
    expect((await request(app).post('/me').send({ token: `${'a'.repeat(1024 * 1024)}.b.c` })).status).toBe(401);
  });

  it(`the bound is ${MAX} characters: the longest token within it passes (and is cached), the next longer one is refused`, async () => {
    const app = guardWithBodyToken();
    const within = await tokenNear(MAX, 'atMost');
    const past = await tokenNear(MAX, 'above');
    expect(within.length).toBeGreaterThan(MAX - 3);
    expect(past.length).toBeLessThanOrEqual(MAX + 3);
    expect((await request(app).post('/me').send({ token: within })).status).toBe(200);
    expect((await request(app).post('/me').send({ token: within })).status).toBe(200);
    // Before the fix: 200.
    expect((await request(app).post('/me').send({ token: past })).status).toBe(401);
    expect(reasons).toEqual(['malformed']);
  });
});

describe('a token from the header, on a server whose header limit is raised', () => {
  let server: Server;
  let url: string;
  let guard: ExpressGuard;
  beforeAll(async () => {
    guard = createExpressGuard(emulator().guardOptions());
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    // As `node --max-http-header-size=1048576` would.
    server = createServer({ maxHeaderSize: 1024 * 1024 }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/me`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await guard.close();
  });
  afterEach(() => server.closeAllConnections());

  const status = async (token: string) => (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;

  it('of 64 KiB, validly signed: 401 malformed, the key set never fetched', async () => {
    // Before the fix: 200.
    expect(await status(await tokenNear(64 * 1024, 'atMost'))).toBe(401);
    expect(reasons).toEqual(['malformed']);
    expect(emulator().callCount(JWKS)).toBe(0);
  });

  it(`within ${MAX} characters: 200; just past it: 401`, async () => {
    expect(await status(await tokenNear(MAX, 'atMost'))).toBe(200);
    expect(await status(await tokenNear(MAX, 'above'))).toBe(401);
    expect(reasons).toEqual(['malformed']);
  });
});
