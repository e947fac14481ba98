import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerFor, RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';
import { HOOK_APPS, type HookApp } from './apps.js';

// getToken and identity.resolve over real HTTP on every framework, against the emulator: the token from
// a cookie (the Authorization header then ignored), and the identity a prior layer established
// (passport's req.user, a session), bounded like a claim, revocable, with no token read at all.
const emulator = useEmulator();

// A hook's promise the guard refuses must not be left to reject unhandled: under Node's default
// (--unhandled-rejections=throw) that crashes the whole server for one request.
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', recordUnhandled));
afterAll(() => void process.off('unhandledRejection', recordUnhandled));

/** Lets Node report a rejection nobody handled (it does so once the microtask queue drains). */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.each(Object.keys(HOOK_APPS))('%s', (framework) => {
  const start = HOOK_APPS[framework]!;
  let app: HookApp | undefined;

  beforeEach(() => seedStandardTenant(emulator()));
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const post = (path: string, headers: Record<string, string> = {}) => fetch(`${app!.url}${path}`, { method: 'POST', headers });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app!.url}${path}`, { headers });
  async function expectCode(res: Response, status: number, code: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe(code);
  }

  describe('getToken: the token from a cookie', () => {
    beforeEach(async () => {
      app = await start(emulator(), 'cookie');
    });

    it('authorizes the cookie token: 200 allowed, 403 denied, authenticate() sets the identity', async () => {
      const alice = await emulator().mintToken('alice');
      const bob = await emulator().mintToken('bob');
      const allowed = await post('/servers/1/start', { cookie: `theme=dark; token=${alice}` });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ user: 'alice' });
      await expectCode(await post('/servers/1/start', { cookie: `token=${bob}` }), 403, 'ERR_PERMISSION_DENIED');
      const me = await get('/me', { cookie: `token=${bob}` });
      expect(await me.json()).toEqual({ user: 'bob' });
    });

    it('is the one source: a valid Authorization header without the cookie is a 401', async () => {
      const res = await post('/servers/1/start', { authorization: await bearerFor(emulator(), 'alice') });
      await expectCode(res, 401, 'ERR_MISSING_TOKEN');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });

    it('checks the cookie token as a header token: padded, forged, expired and revoked are 401', async () => {
      const alice = await emulator().mintToken('alice');
      const [header, , signature] = alice.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'bob', exp: 9999999999 })).toString('base64url')}.${signature}`;
      for (const token of [`${alice}=`, forged, 'garbage', await emulator().mintToken('alice', { expiresIn: -60 })]) {
        await expectCode(await post('/servers/1/start', { cookie: `token=${token}` }), 401, 'ERR_INVALID_TOKEN');
      }
      app!.revoke('alice');
      await expectCode(await post('/servers/1/start', { cookie: `token=${alice}` }), 401, 'ERR_INVALID_TOKEN');
    });

    it('a getToken whose promise rejects is a 500 that tells nothing, and its rejection is handled', async () => {
      unhandled.length = 0;
      for (const path of ['/servers/1/start', '/me']) {
        const res = path === '/me' ? await get(path, { cookie: 'token=rejecting' }) : await post(path, { cookie: 'token=rejecting' });
        expect(res.status).toBe(500);
        expect(await res.text()).not.toContain('secret-ish');
      }
      await settled();
      expect(unhandled).toEqual([]);
    });
  });

  describe('identity.resolve: the identity a prior layer established', () => {
    beforeEach(async () => {
      app = await start(emulator(), 'session');
    });

    it("authorizes the session's user: 200 allowed, 403 denied, authenticate() sets the identity", async () => {
      const allowed = await post('/servers/1/start', { 'x-session': 'alice' });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ user: 'alice' });
      await expectCode(await post('/servers/1/start', { 'x-session': 'bob' }), 403, 'ERR_PERMISSION_DENIED');
      expect(await (await get('/me', { 'x-session': 'bob' })).json()).toEqual({ user: 'bob' });
    });

    it('reads no token: a session-less request is a 401, even with a valid bearer token', async () => {
      await expectCode(await post('/servers/1/start'), 401, 'ERR_MISSING_TOKEN');
      await expectCode(await post('/servers/1/start', { authorization: await bearerFor(emulator(), 'alice') }), 401, 'ERR_MISSING_TOKEN');
      await expectCode(await get('/me'), 401, 'ERR_MISSING_TOKEN');
    });

    it.each(['long', 'nul', 'newline', 'spaced', 'number', 'object', 'array'])(
      'refuses the hostile user %s with a 401 and no upstream call',
      async (session) => {
        emulator().resetCalls();
        await expectCode(await post('/servers/1/start', { 'x-session': session }), 401, 'ERR_INVALID_TOKEN');
        await expectCode(await get('/me', { 'x-session': session }), 401, 'ERR_INVALID_TOKEN');
        expect(emulator().callCount(RESOURCES)).toBe(0);
      },
    );

    it('a resolve that returns a promise or throws is a 500 that tells nothing', async () => {
      for (const session of ['promise', 'broken']) {
        const res = await post('/servers/1/start', { 'x-session': session });
        await expectCode(res, 500, 'ERR_INTERNAL');
      }
      const res = await post('/servers/1/start', { 'x-session': 'broken' });
      expect(await res.text()).not.toContain('secret-ish');
    });

    it('a resolve whose promise rejects is a 500 that tells nothing, and its rejection is handled', async () => {
      unhandled.length = 0;
      await expectCode(await post('/servers/1/start', { 'x-session': 'rejecting' }), 500, 'ERR_INTERNAL');
      const res = await get('/me', { 'x-session': 'rejecting' });
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('secret-ish');
      await settled();
      expect(unhandled).toEqual([]);
    });

    it('revokeUser applies: the revoked user is a 401 revoked, the others pass', async () => {
      app!.revoke('alice');
      const res = await post('/servers/1/start', { 'x-session': 'alice' });
      await expectCode(res, 401, 'ERR_INVALID_TOKEN');
      await expectCode(await post('/servers/1/start', { 'x-session': 'bob' }), 403, 'ERR_PERMISSION_DENIED');
    });
  });
});
