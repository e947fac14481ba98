// One instance of the app in a process of its own, for test/redis/processes.test.ts: the built Express
// guard (dist/, as users get it) with a shared tier on its own node-redis client. Configured by the
// environment: GUARD_OPTIONS (JSON), REDIS_URL, REDIS_PREFIX. Prints one JSON line `{"port":N}` once it
// listens and its invalidation subscription is up. POST /_invalidate?user=ID (or ?all=1) awaits the
// guard's invalidation: 204, or 503 when it could not be recorded in Redis.
import express from 'express';
import { createClient } from 'redis';
import { createExpressGuard } from '../../../dist/express.js';

const options = JSON.parse(process.env.GUARD_OPTIONS ?? '{}');
const client = createClient({ url: process.env.REDIS_URL });
client.on('error', () => {}); // node-redis requires a listener; the guard reports trouble itself
await client.connect();
const guard = createExpressGuard({ ...options, logger: false, cache: { redis: client, redisPrefix: process.env.REDIS_PREFIX } });

const app = express();
app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
app.post('/_invalidate', async (req, res) => {
  try {
    await (req.query.all === '1' ? guard.invalidateAll() : guard.invalidateUser(String(req.query.user)));
    res.sendStatus(204);
  } catch {
    res.sendStatus(503);
  }
});

const server = app.listen(0, '127.0.0.1', async () => {
  while (guard.cacheStats().redis?.subscribed !== true) await new Promise((resolve) => setTimeout(resolve, 10));
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

process.on('SIGTERM', async () => {
  server.closeAllConnections();
  server.close();
  await guard.close();
  client.destroy();
  process.exit(0);
});
