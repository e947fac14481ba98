// How long a large grant list holds up the event loop while it loads (issue "Scale": a 10,000-grant
// list must not stall every other request). An Express app with the guard, and the emulator in a worker
// thread (its own event loop: its own work on the answer is not counted). For each run: the grant cache
// is emptied, one request for a user whose list is new (parsed, serialized, hashed, indexed, deflated),
// then one for a second user with the same list (found, inflated and compared). A `setImmediate` ticker
// in the app's process records the longest gap between two of its turns during each request.
// `npm run bench:large-list`; BENCH_LARGE_GRANTS (10000), BENCH_LARGE_RUNS (3).
import express from 'express';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createExpressGuard } from '../dist/express.js';

const GRANTS = Number(process.env.BENCH_LARGE_GRANTS ?? 10_000);
const RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 3);
const testing = fileURLToPath(new URL('../dist/testing.js', import.meta.url));

const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
  (async () => {
    const { startEmulator } = await import(workerData.testing);
    const emulator = await startEmulator();
    const list = Array.from({ length: workerData.grants }, (_, i) => ({ resourceCode: 'reports:' + i, actions: ['reports:Read', 'reports:Write'] }));
    for (const user of ['new-list', 'shared-list']) emulator.setGrants(user, list);
    parentPort.postMessage({ options: emulator.guardOptions() });
    parentPort.on('message', async (message) => {
      if (message.mint !== undefined) parentPort.postMessage({ token: await emulator.mintToken(message.mint) });
      if (message.close) await emulator.close().then(() => process.exit(0));
    });
  })();`,
  { eval: true, workerData: { testing, grants: GRANTS } },
);
const reply = () => new Promise((resolve) => worker.once('message', resolve));
const { options } = await reply();

const guard = createExpressGuard({ ...options, logger: false });
const app = express();
app.get('/r/:id', guard.requirePermission((req) => `reports:${req.params.id}`, 'reports:Read'), (_req, res) => void res.send('ok'));
const server = createServer(app).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${server.address().port}/r/7`;

async function load(user) {
  worker.postMessage({ mint: user });
  const { token } = await reply();
  let last = performance.now();
  let longest = 0;
  let ticking = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await response.text();
  ticking = false;
  if (response.status !== 200) throw new Error(`${user}: HTTP ${response.status}`);
  return { longest, wall: performance.now() - started };
}

console.log(`${GRANTS} grants, ${RUNS} runs (Node ${process.version}): longest event-loop stall during the request (the request's wall time), ms`);
console.log('| run | new list | shared list |');
console.log('|---|---|---|');
await load('new-list'); // warm-up: code paths compiled, keys fetched
for (let run = 1; run <= RUNS; run++) {
  guard.invalidateAll();
  const fresh = await load('new-list');
  const shared = await load('shared-list');
  console.log(`| ${run} | ${fresh.longest.toFixed(1)} (${fresh.wall.toFixed(1)}) | ${shared.longest.toFixed(1)} (${shared.wall.toFixed(1)}) |`);
}
server.close();
await guard.close();
worker.postMessage({ close: true });
