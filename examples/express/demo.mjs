// `npm run demo`: the example API on the embedded GenAuth emulator. Seeds two users (alice may start
// server 1, bob may not), then prints their tokens and curl lines for 200, 401 and 403.
import { createExpressGuard } from 'genauth-guard/express';
import { startEmulator } from 'genauth-guard/testing';
import { printDemo, seedDemoTenant, stopOnSignal } from '../shared/demo-tenant.mjs';
import { listenOrFallBack } from '../shared/listen.mjs';
import { buildApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const emulator = await startEmulator();
seedDemoTenant(emulator);

const guard = createExpressGuard(emulator.guardOptions());
const server = await listenOrFallBack(buildApp(guard), port);
await printDemo({ framework: 'Express', base: `http://127.0.0.1:${server.address().port}`, emulator });

stopOnSignal(async () => {
  server.close();
  await guard.close();
  await emulator.close();
});
