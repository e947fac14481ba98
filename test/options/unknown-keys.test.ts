// Every options object of ours refuses a key it does not know, with a TypeError that names the key's
// path and, when one is close, the valid key it probably meant. A misspelt key used to be ignored, so
// `jwt: { audiance }` left the audience unchecked. Objects the user owns (a JWK, a dispatcher, a
// logger, the condition context function, Fastify's register options) are not ours to check.
import 'reflect-metadata';
import { exportJWK, generateKeyPair } from 'jose';
import Fastify from 'fastify';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { createFastifyGuard, genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import { GenAuthGuardModule, GenAuthService, RequirePermission } from '../../src/adapters/nest/index.js';
import { createGuard, type Guard, type GuardOptions } from '../../src/index.js';
import { startEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const closers: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((closer) => closer.close()));
});

const base = (): GuardOptions => emulator().guardOptions();
const keep = <T extends { close(): Promise<unknown> }>(closer: T): T => {
  closers.push(closer);
  return closer;
};

/** The TypeError `run` throws (synchronously or as a rejection). */
async function thrown(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a TypeError, nothing was thrown');
}

/** The one message format: `genauth-guard: option "<path>" <problem>`, with the hint when one is close. */
async function expectRefused(run: () => unknown, path: string, hint?: string): Promise<void> {
  const error = await thrown(run);
  expect(error).toBeInstanceOf(TypeError);
  expect(error.message.startsWith(`genauth-guard: option "${path}" `)).toBe(true);
  if (hint === undefined) expect(error.message).not.toMatch(/did you mean/);
  else expect(error.message).toContain(`did you mean "${hint}"?`);
}

describe('the guard options and their groups', () => {
  const cases: Array<[string, string, (o: GuardOptions) => unknown]> = [
    ['audience', 'jwt.audience', (o) => ({ ...o, audience: 'my-app' })],
    ['jwt.audiance', 'jwt.audience', (o) => ({ ...o, jwt: { ...o.jwt, audiance: 'my-app' } })],
    ['jwt.clockTolerence', 'jwt.clockTolerance', (o) => ({ ...o, jwt: { ...o.jwt, clockTolerence: 10 } })],
    ['jwt.Issuer', 'jwt.issuer', (o) => ({ ...o, jwt: { ...o.jwt, Issuer: 'x' } })],
    ['jwt.jwks.cacheMaxAg', 'jwt.jwks.cacheMaxAge', (o) => ({ ...o, jwt: { ...o.jwt, jwks: { cacheMaxAg: 1 } } })],
    ['jwt.tokenCache.maxage', 'jwt.tokenCache.maxAge', (o) => ({ ...o, jwt: { ...o.jwt, tokenCache: { maxage: 1 } } })],
    ['cache.ttlMs', 'cache.ttl', (o) => ({ ...o, cache: { ttlMs: 1000 } })],
    ['cache.maxstale', 'cache.maxStale', (o) => ({ ...o, cache: { maxstale: 1000 } })],
    ['genauth.userPoolID', 'genauth.userPoolId', (o) => ({ ...o, genauth: { ...o.genauth, userPoolID: 'x' } })],
    ['genauth.acessKeySecret', 'genauth.accessKeySecret', (o) => ({ ...o, genauth: { ...o.genauth, acessKeySecret: 'x' } })],
    ['genauth.timeOut', 'genauth.timeout', (o) => ({ ...o, genauth: { ...o.genauth, timeOut: 1 } })],
    ['identity.clam', 'identity.claim', (o) => ({ ...o, identity: { clam: 'uid' } })],
    ['identity.maxlength', 'identity.maxLength', (o) => ({ ...o, identity: { maxlength: 10 } })],
    ['conditions.trustProxies', 'conditions.trustProxy', (o) => ({ ...o, conditions: { trustProxies: 1 } })],
    ['loger', 'logger', (o) => ({ ...o, loger: false })],
    ['retry_after', 'retryAfter', (o) => ({ ...o, retry_after: 1 })],
  ];

  it.each(cases)('%s is refused (did you mean %s?)', async (path, hint, mutate) => {
    await expectRefused(() => createGuard(mutate(base()) as GuardOptions), path, hint);
  });

  it('a key far from every valid one is refused without a hint, and the valid keys are listed', async () => {
    const error = await thrown(() => createGuard({ ...base(), jwt: { ...base().jwt, zzzzzz: 1 } } as never));
    expect(error.message.startsWith('genauth-guard: option "jwt.zzzzzz" ')).toBe(true);
    expect(error.message).not.toMatch(/did you mean/);
    expect(error.message).toContain('audience');
  });

  it('a key set to undefined is still refused (it is a spelling mistake either way)', async () => {
    await expectRefused(() => createGuard({ ...base(), jwt: { ...base().jwt, audiance: undefined } } as never), 'jwt.audiance', 'jwt.audience');
  });

  it('the message never echoes the value', async () => {
    const error = await thrown(() => createGuard({ ...base(), genauth: { ...base().genauth, accessKeySecrett: 'SK-do-not-print' } } as GuardOptions));
    expect(error.message).not.toContain('SK-do-not-print');
  });

  it('genauth.maxRetryAfter is an option: seconds, rounded up, 60 by default', async () => {
    const guard = keep(createGuard({ ...base(), genauth: { ...base().genauth, maxRetryAfter: 9.5 } }));
    expect(guard.options.genauth.maxRetryAfter).toBe(10);
    expect(keep(createGuard(base())).options.genauth.maxRetryAfter).toBe(60);
    await expectRefused(() => createGuard({ ...base(), genauth: { ...base().genauth, maxRetryAfter: '60' } } as unknown as GuardOptions), 'genauth.maxRetryAfter');
  });

  it('genauth.acceptPartialLists is an option: a boolean, false by default', async () => {
    const guard = keep(createGuard({ ...base(), genauth: { ...base().genauth, acceptPartialLists: true } }));
    expect(guard.options.genauth.acceptPartialLists).toBe(true);
    expect(keep(createGuard(base())).options.genauth.acceptPartialLists).toBe(false);
    await expectRefused(() => createGuard({ ...base(), genauth: { ...base().genauth, acceptPartialLists: 'yes' } } as unknown as GuardOptions), 'genauth.acceptPartialLists');
  });

  it('objects the user owns are not checked: a JWK with extra members, a dispatcher, a logger, the context function', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', x_custom: 'anything' };
    const dispatcher = keep(new Agent());
    keep(
      createGuard({
        genauth: { ...base().genauth, dispatcher },
        jwt: { publicKey: jwk, algorithms: ['ES256'] },
        logger: Object.assign(Object.create({ inherited() {} }), { warn() {}, info() {}, level: 'debug' }),
        conditions: { context: () => ({ Device: 'x' }) },
      }),
    );
  });
});

describe('the adapters', () => {
  it('Express: passErrrors', async () => {
    await expectRefused(() => createExpressGuard({ ...base(), passErrrors: true } as never), 'passErrrors', 'passErrors');
  });

  it('Koa: passerrors', async () => {
    await expectRefused(() => createKoaGuard({ ...base(), passerrors: true } as never), 'passerrors', 'passErrors');
  });

  it('Fastify: createFastifyGuard refuses apii', async () => {
    await expectRefused(() => createFastifyGuard({ ...base(), apii: {} } as never), 'apii', 'api');
  });

  it('Fastify: registering the plugin with a misspelt key fails ready()', async () => {
    const app = keep(Fastify());
    app.register(genauthGuard, { ...base(), passErors: true } as never);
    await expectRefused(() => app.ready(), 'passErors', 'passErrors');
  });

  it("Fastify: the plugin takes Fastify's own register options (prefix, logLevel, logSerializers)", async () => {
    const app = keep(Fastify());
    app.register(genauthGuard, { ...base(), prefix: '/v1', logLevel: 'warn', logSerializers: {} });
    await app.ready();
    expect(app.genauth.core).toBeDefined();
  });

  it('API mode: publicPath (the existing refusal gains the hint)', async () => {
    const guard = keep(createExpressGuard(base()));
    await expectRefused(() => guard.api({ publicPath: ['/health'] } as never), 'api.publicPath', 'api.publicPaths');
    const fastify = keep(Fastify());
    fastify.register(genauthGuard, { ...base(), api: { strictt: true } } as never);
    await expectRefused(() => fastify.ready(), 'api.strictt', 'api.strict');
  });

  it('route options: resourcetype, and a resource type GenAuth does not have', async () => {
    const guard = keep(createExpressGuard(base()));
    await expectRefused(() => guard.requirePermission('reports', 'reports:Read', { resourcetype: 'API' } as never), 'route.resourcetype', 'route.resourceType');
    await expectRefused(() => guard.requirePermission('reports', 'reports:Read', { resourceType: 'api' } as never), 'route.resourceType');
    const koa = keep(createKoaGuard(base()));
    await expectRefused(() => koa.requirePermission('reports', 'reports:Read', { resorceType: 'API' } as never), 'route.resorceType', 'route.resourceType');
  });

  it('Fastify route config: config.genauth with a misspelt key fails when the route is added', async () => {
    const app = keep(Fastify());
    app.register(genauthGuard, base());
    await app.after();
    await expectRefused(() => {
      app.get('/r', { config: { genauth: { resource: 'reports', requirment: 'reports:Read' } as never } }, async () => 'ok');
      return app.ready();
    }, 'config.genauth.requirment', 'config.genauth.requirement');
  });

  it('Fastify route config: a public route carries nothing else', async () => {
    const app = keep(Fastify());
    app.register(genauthGuard, base());
    await app.after();
    await expectRefused(() => {
      app.get('/r', { config: { genauth: { public: true, resource: 'reports' } as never } }, async () => 'ok');
      return app.ready();
    }, 'config.genauth.resource');
  });
});

describe('the Nest module', () => {
  it('forRoot refuses a misspelt key at once', async () => {
    await expectRefused(() => GenAuthGuardModule.forRoot({ ...base(), defaultPolicyy: 'deny' } as never), 'defaultPolicyy', 'defaultPolicy');
    await expectRefused(() => GenAuthGuardModule.forRoot({ ...base(), globalGaurd: false } as never), 'globalGaurd', 'globalGuard');
  });

  it('forRootAsync refuses keys it does not support (useClass would be ignored)', async () => {
    await expectRefused(
      () => GenAuthGuardModule.forRootAsync({ useFactory: () => base(), useClass: class {} } as never),
      'useClass',
    );
    await expectRefused(() => GenAuthGuardModule.forRootAsync({ useFactory: () => base(), injects: [] } as never), 'injects', 'inject');
  });

  it('the options a factory returns are checked when the service is built', async () => {
    await expectRefused(() => new GenAuthService({ ...base(), passErorrs: true } as never), 'passErorrs', 'passErrors');
    await expectRefused(() => new GenAuthService({ ...base(), jwt: { ...base().jwt, audiance: 'x' } } as never), 'jwt.audiance', 'jwt.audience');
  });

  it('decorators: @RequirePermission route options', async () => {
    await expectRefused(() => RequirePermission('reports', 'reports:Read', { resourcetype: 'API' } as never), 'route.resourcetype', 'route.resourceType');
  });
});

describe('the emulator', () => {
  it('startEmulator refuses a misspelt option', async () => {
    await expectRefused(() => startEmulator({ audiance: 'x' } as never), 'startEmulator.audiance', 'startEmulator.audience');
  });

  it('mintToken refuses a misspelt option', async () => {
    await expectRefused(() => emulator().mintToken('alice', { expiresin: 5 } as never), 'mintToken.expiresin', 'mintToken.expiresIn');
  });
});

describe('one message format for every option mistake', () => {
  it.each<[string, () => unknown]>([
    ['jwt.algorithms', () => createGuard({ ...base(), jwt: { jwksUri: emulator().jwksUri } } as never)],
    ['genauth', () => createGuard({ jwt: base().jwt } as never)],
    ['api.publicPaths[0]', () => keep(createExpressGuard(base())).api({ publicPaths: ['health'] })],
    ['api.publicPaths', () => keep(createExpressGuard(base())).api({ publicPaths: '/health' } as never)],
    ['api.caseSensitive', () => keep(createExpressGuard(base())).api({ caseSensitive: 'yes' } as never)],
    ['api', () => keep(createExpressGuard(base())).api([] as never)],
    ['defaultPolicy', () => new GenAuthService({ ...base(), defaultPolicy: 'allow' } as never)],
    ['passErrors', () => new GenAuthService({ ...base(), passErrors: 'yes' } as never)],
    ['passErrors', () => createExpressGuard({ ...base(), passErrors: 1 } as never)],
    ['globalGuard', () => GenAuthGuardModule.forRoot({ ...base(), globalGuard: 'no' } as never)],
    ['useFactory', () => GenAuthGuardModule.forRootAsync({} as never)],
    ['options', () => createGuard(null as never)],
  ])('%s', async (path, run) => {
    const error = await thrown(run);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message.startsWith(`genauth-guard: option "${path}" `)).toBe(true);
  });
});

// Type-only use, so an unused import is not flagged.
export type { Guard };
