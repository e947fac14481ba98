// `node examples/fastify/demo.mjs` (after `npm run build`): the Fastify example API on the embedded
// GenAuth emulator. Seeds alice (may start server 1) and bob (may not), prints tokens and curl lines.
import { genauthGuard } from 'genauth-guard/fastify';
import { startEmulator } from 'genauth-guard/testing';
import { printDemo, seedDemoTenant, stopOnSignal } from '../shared/demo-tenant.mjs';
import { buildApp } from './app.mjs';

const port = Number(process.env.PORT ?? 3000);
const emulator = await startEmulator();
seedDemoTenant(emulator);

const app = await buildApp(genauthGuard, emulator.guardOptions());
const base = await app.listen({ port, host: '127.0.0.1' });
await printDemo({ framework: 'Fastify', base, emulator });

stopOnSignal(async () => {
  await app.close(); // the plugin closes the guard
  await emulator.close();
});
