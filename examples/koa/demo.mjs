// `node examples/koa/demo.mjs` (after `npm run build`): the Koa example API on the embedded GenAuth
// emulator. Seeds alice (may start server 1) and bob (may not), prints tokens and curl lines.
import { createKoaGuard } from 'genauth-guard/koa';
import { startEmulator } from 'genauth-guard/testing';
import { buildApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const emulator = await startEmulator();
emulator.setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
emulator.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);

const guard = createKoaGuard(emulator.guardOptions());
const server = buildApp(guard).listen(port, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const alice = await emulator.mintToken('alice', { expiresIn: 3600 });
const bob = await emulator.mintToken('bob', { expiresIn: 3600 });

console.log(`genauth-guard Koa demo: API on ${base}, GenAuth emulator on ${emulator.url}

# 200: alice starts server 1
curl -i -X POST ${base}/api/v1/servers/1/start -H 'Authorization: Bearer ${alice}'
# 401: no token
curl -i -X POST ${base}/api/v1/servers/1/start
# 403: bob lacks ecs:Start
curl -i -X POST ${base}/api/v1/servers/1/start -H 'Authorization: Bearer ${bob}'

Press Ctrl+C to stop.`);

const stop = async () => {
  server.close();
  await guard.close();
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
