// One instance of the Express example (examples/express/app.mjs, imported as is) in a process of its
// own, the way a deployment runs it: the guard's options from the environment, a node-redis client of
// its own as the shared tier, and the GenAuth webhook route. Started by cluster.mjs.
// Environment: GUARD_OPTIONS (JSON from emulator.guardOptions()), REDIS_URL (none: no Redis tier),
// WEBHOOK_SECRET. Prints one JSON line `{"port":N}` once it listens and (with Redis) its invalidation
// subscription is up; stops on SIGTERM/SIGINT or when its parent goes away.
import { createClient } from 'redis';
import { createExpressGuard } from 'genauth-guard/express';
import { buildApp } from '../express/app.mjs';

const options = JSON.parse(process.env.GUARD_OPTIONS ?? '{}');
let client;
if (process.env.REDIS_URL) {
  client = createClient({ url: process.env.REDIS_URL });
  client.on('error', () => {}); // node-redis requires a listener; the guard reports trouble itself (one warning)
  await client.connect();
}
const guard = createExpressGuard({ ...options, ...(client ? { cache: { redis: client } } : {}) });

const app = buildApp(guard);
app.post('/hooks/genauth', guard.webhook({ secret: process.env.WEBHOOK_SECRET ?? '' }));

const server = app.listen(0, '127.0.0.1', async () => {
  while (client && guard.cacheStats().redis?.subscribed !== true) await new Promise((resolve) => setTimeout(resolve, 10));
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  server.closeAllConnections();
  server.close();
  await guard.close();
  client?.destroy();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
