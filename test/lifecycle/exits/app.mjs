// One app in a process of its own, for test/lifecycle/exits.test.ts: the built package (dist/, as users
// get it) on FRAMEWORK, serving a few requests to itself, shutting down as its framework's docs say,
// then doing nothing: the process must exit by itself. Configured by the environment:
//   GUARD_OPTIONS  the guard options (JSON)            TOKEN          alice's Authorization header
//   FRAMEWORK      express | koa | fastify | nest      ASYNC=1        Nest: forRootAsync
//   REDIS_URL      a shared tier on a node-redis client, closed after the guard
//   REDIS_UNCONNECTED=1  that client is never connected (Redis unreachable from the start)
//   WEBHOOK=1      also serve GenAuth's webhook        WARM=1, READY=1  warm.users, await ready()
//   IN_FLIGHT=1    close the guard while a request waits on GenAuth (the test makes GenAuth hang)
//   FORGET_CLOSE=1 Express/Koa: the app never calls guard.close()
// Prints one JSON line: { statuses, inFlight? }.
import http from 'node:http';

const options = JSON.parse(process.env.GUARD_OPTIONS ?? '{}');
const framework = process.env.FRAMEWORK ?? 'express';
const forget = process.env.FORGET_CLOSE === '1';
let redis;
if (process.env.REDIS_URL) {
  const { createClient } = await import('redis');
  redis = createClient({ url: process.env.REDIS_URL });
  redis.on('error', () => {}); // node-redis requires a listener; the guard reports trouble itself
  if (process.env.REDIS_UNCONNECTED !== '1') await redis.connect();
  options.cache = { redis, redisTimeout: 1000 };
}
if (process.env.WARM === '1') options.warm = { users: ['alice'] };
options.logger = false;
const secret = 'a-webhook-secret-of-enough-length';

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

/** Express and Koa: stop the server, then close the guard (unless the app forgot). */
async function stop(server, guard) {
  if (forget) return new Promise((resolve) => server.close(resolve));
  // #region shutdown
  await new Promise((resolve) => server.close(resolve)); // no new requests; those in flight finish
  await guard.close();
  // #endregion shutdown
}

/** Each framework: starts an app; its url, its guard, and how it shuts down. */
const frameworks = {
  async express() {
    const { default: express } = await import('express');
    const { createExpressGuard } = await import('../../../dist/express.js');
    const guard = createExpressGuard(options);
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    if (process.env.WEBHOOK === '1') app.post('/hooks', guard.webhook({ secret }));
    const server = http.createServer(app);
    return { url: await listen(server), guard, shutdown: () => stop(server, guard) };
  },
  async koa() {
    const { default: Koa } = await import('koa');
    const { createKoaGuard } = await import('../../../dist/koa.js');
    const guard = createKoaGuard(options);
    const app = new Koa();
    const reports = guard.requirePermission('reports', 'reports:Read');
    const hook = process.env.WEBHOOK === '1' ? guard.webhook({ secret }) : undefined;
    app.use(async (ctx, next) => {
      if (ctx.path === '/hooks' && hook !== undefined) return hook(ctx, next);
      return reports(ctx, async () => {
        ctx.body = 'ok';
      });
    });
    const server = http.createServer(app.callback());
    return { url: await listen(server), guard, shutdown: () => stop(server, guard) };
  },
  async fastify() {
    const { default: Fastify } = await import('fastify');
    const { genauthGuard } = await import('../../../dist/fastify.js');
    const app = Fastify();
    await app.register(genauthGuard, options);
    app.get('/reports', { config: { genauth: { resource: 'reports', requirement: 'reports:Read' } } }, async () => 'ok');
    if (process.env.WEBHOOK === '1') app.post('/hooks', { config: { genauth: { public: true } } }, app.genauth.webhook({ secret }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    // The plugin closes the guard with the instance (onClose).
    return { url, guard: app.genauth, shutdown: () => app.close() };
  },
  async nest() {
    await import('reflect-metadata');
    const { Controller, Get, Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { GenAuthGuardModule, GenAuthService, RequirePermission } = await import('../../../dist/nest.js');
    class Reports {
      get() {
        return 'ok';
      }
    }
    const get = Object.getOwnPropertyDescriptor(Reports.prototype, 'get');
    RequirePermission('reports', 'reports:Read')(Reports.prototype, 'get', get);
    Get('reports')(Reports.prototype, 'get', get);
    Controller()(Reports);
    class AppModule {}
    const module = process.env.ASYNC === '1' ? GenAuthGuardModule.forRootAsync({ useFactory: async () => options }) : GenAuthGuardModule.forRoot(options);
    Module({ imports: [module], controllers: [Reports] })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    // The module closes the guard when the app shuts down (onApplicationShutdown).
    return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), guard: app.get(GenAuthService), shutdown: () => app.close() };
  },
};

const { url, guard, shutdown } = await frameworks[framework]();
if (process.env.READY === '1') await guard.ready();

async function get(authorization) {
  const response = await fetch(`${url}/reports`, { headers: authorization === undefined ? {} : { authorization } });
  await response.arrayBuffer();
  return response.status;
}

const result = { statuses: [] };
if (process.env.IN_FLIGHT === '1') {
  // GenAuth hangs: the request waits on it when the guard is closed.
  const inFlight = get(process.env.TOKEN);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await guard.close();
  result.inFlight = await inFlight;
} else {
  for (const authorization of [process.env.TOKEN, process.env.TOKEN, undefined]) result.statuses.push(await get(authorization));
}
if (process.env.WEBHOOK === '1') {
  const body = JSON.stringify({ eventName: 'permission:revoke', data: { targetType: 'USER', targetIdentifiers: ['alice'] } });
  const response = await fetch(`${url}/hooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-authing-webhook-secret': secret }, body });
  await response.arrayBuffer();
  result.statuses.push(response.status);
}
await shutdown();
if (redis?.isOpen) redis.destroy();
process.stdout.write(`${JSON.stringify(result)}\n`);
