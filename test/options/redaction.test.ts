// No public object of ours holds a secret: `guard.options` (and `guard.core.options`) once carried
// `genauth.accessKeySecret` and `jwt.secret`, so logging or serializing a guard leaked them. Every
// object a user can reach (the core guard, each adapter's guard, the Nest service, guard and
// providers) is inspected in full and serialized, and neither secret may appear.
import 'reflect-metadata';
import { inspect } from 'node:util';
import Fastify from 'fastify';
import { ProxyAgent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createFastifyGuard, genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GENAUTH_SERVICE, GenAuthGuard, GenAuthGuardModule, GenAuthService } from '../../src/adapters/nest/index.js';
import { createGuard, type GuardOptions } from '../../src/index.js';
import { useEmulator } from '../fixtures.js';
import { STANDARD_CONTROLLERS, startNestApp, type StartedNestApp } from '../nest/app.js';

const ACCESS_KEY_SECRET = 'SK-redaction-test-5f0c7e1d9a2b';
const JWT_SECRET = 'jwt-redaction-test-secret-0123456789abcdef-0123456789abcdef-zzzzzz';
const JWT_SECRET_BYTES = new Uint8Array(64).map((_, i) => 200 - i);

const emulator = useEmulator({ accessKeySecret: ACCESS_KEY_SECRET });
const closers: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((closer) => closer.close()));
});
let nest: StartedNestApp | undefined;
afterAll(async () => {
  await nest?.close();
});

function withSecrets(secret: string | Uint8Array = JWT_SECRET): GuardOptions {
  return { genauth: emulator().guardOptions().genauth, jwt: { secret, algorithms: ['HS256', 'HS512'] } };
}

/** Everything `util.inspect` can show (hidden members, getters, all depths) and the JSON form. */
function renderings(value: unknown): string[] {
  return [
    inspect(value, { depth: Infinity, showHidden: true, getters: true, maxArrayLength: Infinity, maxStringLength: Infinity }),
    inspect(value, { depth: Infinity }),
    JSON.stringify(value) ?? '',
  ];
}

function expectNoSecret(value: unknown): void {
  const byteRun = Array.from(JWT_SECRET_BYTES.slice(0, 8)).join(', ');
  for (const text of renderings(value)) {
    expect(text).not.toContain(ACCESS_KEY_SECRET);
    expect(text).not.toContain(JWT_SECRET);
    expect(text).not.toContain(byteRun);
  }
}

describe('no public object holds a secret', () => {
  it('the core guard: options is a redacted view that still answers the harmless fields', async () => {
    const guard = createGuard(withSecrets());
    closers.push(guard);
    expectNoSecret(guard);
    expect(guard.options.genauth.accessKeySecret).toBe('[redacted]');
    expect(guard.options.jwt?.secret).toBe('[redacted]');
    expect(guard.options.genauth.userPoolId).toBe(emulator().userPoolId);
    expect(guard.options.realm).toBe('api');
    expect(Object.isFrozen(guard.options)).toBe(true);
  });

  // A proxy's credentials live in the dispatcher (undici's ProxyAgent keeps its Proxy-Authorization
  // header), as a Redis password lives in its client: guard.options shows neither.
  it('genauth.dispatcher (a ProxyAgent holding the proxy credentials) shows as redacted', async () => {
    const proxySecret = 'proxy-credential-redaction-test-7c1e';
    const dispatcher = new ProxyAgent({ uri: 'http://127.0.0.1:9', token: `Basic ${proxySecret}` });
    const guard = createGuard({ ...withSecrets(), genauth: { ...emulator().guardOptions().genauth, dispatcher } });
    closers.push(guard, { close: () => dispatcher.close() });
    for (const text of renderings(guard)) expect(text).not.toContain(proxySecret);
    expect(guard.options.genauth.dispatcher).toBe('[redacted]');
  });

  it('a byte secret too', () => {
    const guard = createGuard(withSecrets(JWT_SECRET_BYTES));
    closers.push(guard);
    expectNoSecret(guard);
  });

  it('the Express and Koa guards', () => {
    const express = createExpressGuard(withSecrets());
    const koa = createKoaGuard(withSecrets());
    closers.push(express, koa);
    expectNoSecret(express);
    expectNoSecret(express.core);
    expectNoSecret(koa);
    expectNoSecret(koa.core);
  });

  it('the Fastify guard and the decorated instance property', async () => {
    const direct = createFastifyGuard(withSecrets());
    closers.push(direct);
    expectNoSecret(direct);
    const app = Fastify();
    closers.push(app);
    app.register(genauthGuard, withSecrets());
    await app.ready();
    expectNoSecret(app.genauth);
  });

  it('the Nest service, guard and providers', async () => {
    nest = await startNestApp({
      platform: 'express',
      genauth: GenAuthGuardModule.forRoot(withSecrets()),
      handled: () => {},
      controllers: STANDARD_CONTROLLERS,
    });
    const service = nest.app.get(GenAuthService);
    expectNoSecret(service);
    expectNoSecret(nest.app.get(GENAUTH_SERVICE));
    expectNoSecret(nest.app.get(GenAuthGuard));
    expect(service.core.options.genauth.accessKeySecret).toBe('[redacted]');
  });
});
