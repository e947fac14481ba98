// `node examples/koa/demo.mjs` (after `npm run build`): the Koa example API on the embedded GenAuth
// emulator. Seeds alice (may start server 1) and bob (may not), prints tokens and curl lines.
import { createKoaGuard } from 'genauth-guard/koa';
import { startEmulator } from 'genauth-guard/testing';
import { printDemo, seedDemoTenant, stopOnSignal } from '../shared/demo-tenant.mjs';
import { listenOrFallBack } from '../shared/listen.mjs';
import { buildApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const emulator = await startEmulator();
seedDemoTenant(emulator);

const guard = createKoaGuard(emulator.guardOptions());
const server = await listenOrFallBack(buildApp(guard).callback(), port);
await printDemo({ framework: 'Koa', base: `http://127.0.0.1:${server.address().port}`, emulator });

stopOnSignal(async () => {
  server.close();
  await guard.close();
  await emulator.close();
});
