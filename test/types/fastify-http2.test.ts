// Type-level test of the Fastify plugin on an instance over HTTP/2 (`http2: true`, whose requests are
// `Http2ServerRequest`s): every documented way of protecting a route type-checks as written, with no
// cast (tsc checks this file), and serves. Before, the hooks and `genauthFrameworkErrors` were typed for
// HTTP/1's `IncomingMessage` only.
import http2 from 'node:http2';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { genauthFrameworkErrors, genauthGuard } from '../../src/adapters/fastify.js';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';

const emulator = useEmulator();

/** One request over cleartext HTTP/2: its status. */
function h2Status(port: number, headers: http2.OutgoingHttpHeaders): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request(headers);
    stream.on('response', (answer) => resolve(Number(answer[':status'])));
    stream.on('error', reject);
    stream.on('close', () => session.close());
    stream.resume();
    stream.end();
  });
}

describe('Fastify over HTTP/2: the plugin, its hooks and genauthFrameworkErrors are typed for it', () => {
  it('type-checks each way of protecting a route, and serves them', async () => {
    seedStandardTenant(emulator());
    const app = Fastify({ http2: true, frameworkErrors: genauthFrameworkErrors });
    await app.register(genauthGuard, emulator().guardOptions());
    app.post<{ Params: { id: string } }>('/servers/:id/start', { config: { genauth: { resource: (req) => `ecs:${req.params.id}`, requirement: 'ecs:Start' } } }, async () => 'started');
    app.post<{ Params: { id: string } }>('/servers/:id/stop', { preHandler: app.genauth.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Stop') }, async () => 'stopped');
    app.get('/me', { onRequest: app.genauth.authenticate() }, async (req) => req.genauth?.identity.userId);
    app.register(async (scope) => {
      scope.addHook('onRequest', app.genauth.api());
      scope.get('/api/v1/servers', async () => 'listed');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    try {
      const authorization = await bearerFor(emulator(), 'alice');
      expect(await h2Status(port, { ':method': 'POST', ':path': '/servers/1/start', authorization })).toBe(200);
      expect(await h2Status(port, { ':method': 'POST', ':path': '/servers/2/start', authorization })).toBe(403);
      expect(await h2Status(port, { ':method': 'POST', ':path': '/servers/1/stop', authorization })).toBe(200);
      expect(await h2Status(port, { ':method': 'GET', ':path': '/me' })).toBe(401);
      expect(await h2Status(port, { ':method': 'GET', ':path': '/api/v1/servers', authorization })).toBe(403);
    } finally {
      await app.close();
    }
  });
});
