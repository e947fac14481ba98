// identity.resolve with a shared Redis: an instance started after a revocation never heard it over
// the subscription, so the first request it sees for a user reads that user's record from Redis
// before it is decided. Over HTTP on every framework: instance A revokes bob (revokeUser, recorded in
// Redis and published), instance B starts afterwards on the same Redis; bob is a 401 revoked there,
// alice (never revoked) passes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedStandardTenant, useEmulator } from '../fixtures.js';
import { HOOK_APPS, type HookApp } from '../hooks/apps.js';
import { clients, freshPrefix } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/late-identity.test.ts');

describe.skipIf(!run)('identity.resolve on an instance started after the revocation', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  const open = clients();
  let apps: HookApp[] = [];
  let prefix = '';

  beforeEach(() => {
    prefix = freshPrefix();
    seedStandardTenant(emulator());
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    open.closeAll();
  });

  /** One instance of `framework` with identity.resolve over the test's Redis (its own client). */
  async function instance(framework: string): Promise<HookApp> {
    const client = await open.client(redis().url);
    const app = await HOOK_APPS[framework]!(emulator(), 'session', { logger: false, cache: { redis: client, redisPrefix: prefix, redisTimeout: 1000 } });
    apps.push(app);
    return app;
  }

  async function answer(app: HookApp, method: 'GET' | 'POST', path: string, session: string) {
    const response = await fetch(`${app.url}${path}`, { method, headers: { 'x-session': session } });
    const body = (await response.json()) as { code?: string; detail?: string; user?: string };
    return { status: response.status, code: body.code, detail: body.detail, user: body.user };
  }

  const REVOKED = { status: 401, code: 'ERR_INVALID_TOKEN', detail: 'The token has been revoked', user: undefined };

  it.each(Object.keys(HOOK_APPS))('%s: the revoked user is a 401 revoked on the late instance, the others pass', async (framework) => {
    const first = await instance(framework);
    expect((await answer(first, 'POST', '/servers/1/start', 'alice')).status).toBe(200);
    // Resolves once recorded in Redis and published: the late instance cannot hear it any more.
    await first.revoke('bob');
    const late = await instance(framework);
    // The route check and authenticate() alone, each the user's first request on the instance.
    expect(await answer(late, 'GET', '/me', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'POST', '/servers/1/start', 'alice')).toEqual({ status: 200, code: undefined, detail: undefined, user: 'alice' });
    expect(await answer(late, 'GET', '/me', 'alice')).toEqual({ status: 200, code: undefined, detail: undefined, user: 'alice' });
  });

  it('express: a late instance whose first request is a permission check refuses the revoked user too', async () => {
    const first = await instance('express');
    await first.revoke('bob');
    const late = await instance('express');
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    // Later requests: decided from the local copy, still refused.
    expect(await answer(late, 'POST', '/servers/1/start', 'bob')).toEqual(REVOKED);
    expect(await answer(late, 'GET', '/me', 'bob')).toEqual(REVOKED);
  });
});
