// `node examples/koa/demo.mjs` (after `npm run build`): the Koa example API on the embedded GenAuth
// emulator. Seeds alice (may start server 1) and bob (may not), prints tokens and curl lines.
import { createKoaGuard } from 'genauth-guard/koa';
import { startEmulator } from 'genauth-guard/testing';
import { printDemo, seedDemoTenant, stopOnSignal } from '../shared/demo-tenant.mjs';
import { buildApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const emulator = await startEmulator();
seedDemoTenant(emulator);

const guard = createKoaGuard(emulator.guardOptions());
const server = buildApp(guard).listen(port, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
await printDemo({ framework: 'Koa', base: `http://127.0.0.1:${server.address().port}`, emulator });

stopOnSignal(async () => {
  server.close();
  await guard.close();
  await emulator.close();
});
