// Starts the example's pieces and stops them all: the GenAuth emulator (in this process), one
// redis-server, and N instances of the Express example in child processes, each on a loopback port of
// its own with the Redis tier and the webhook route. The emulator's webhook points at the first one
// only, so the others learn of a change through Redis. Shared by run.mjs and bench/redis.mjs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startEmulator } from 'genauth-guard/testing';
import { startRedis } from './redis.mjs';

const INSTANCE = fileURLToPath(new URL('./instance.mjs', import.meta.url));

function startInstance(env) {
  const child = spawn(process.execPath, [INSTANCE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start within 15 s: ${output}`)), 15_000);
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      const line = /\{"port":(\d+)\}/.exec(output);
      if (line) {
        clearTimeout(timer);
        resolve({ process: child, url: `http://127.0.0.1:${line[1]}` });
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code}: ${output}`));
    });
  });
  return { child, ready };
}

/**
 * Starts the cluster. `redis: false` runs the instances without the shared tier (for comparisons);
 * `webhook: false` adds no webhook subscription to the emulator.
 * @returns {{ emulator, redis, instances: { url, process }[], webhookUrl, close(): Promise<void> }}
 */
export async function startCluster({ instances = 3, redis = true, webhook = true } = {}) {
  const children = [];
  let emulator;
  let server;
  let closed;
  const close = () =>
    (closed ??= (async () => {
      await Promise.all(
        children.map((child) => child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')) : undefined),
      );
      server?.stop();
      await emulator?.close();
    })());
  try {
    emulator = await startEmulator();
    if (redis) server = await startRedis();
    const secret = randomBytes(24).toString('base64url'); // GenAuth's "Request key"
    const env = { GUARD_OPTIONS: JSON.stringify(emulator.guardOptions()), REDIS_URL: server?.url ?? '', WEBHOOK_SECRET: secret };
    const started = Array.from({ length: instances }, () => startInstance(env));
    children.push(...started.map((instance) => instance.child));
    const running = await Promise.all(started.map((instance) => instance.ready));
    const webhookUrl = `${running[0].url}/hooks/genauth`;
    if (webhook) emulator.addWebhook({ url: webhookUrl, secret, events: '*' });
    return { emulator, redis: server, instances: running, webhookUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One request to the example's protected route (alice may start server 1); resolves the status. */
export async function startServer(base, token) {
  const response = await fetch(`${base}/api/v1/servers/1/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Polls `base` (`pauseMs` between requests) until it answers `status`; resolves the ms since `since`
 * (a `performance.now()`), or rejects after `boundMs`.
 */
export async function untilStatus(base, token, status, since, boundMs, pauseMs = 0) {
  for (;;) {
    if ((await startServer(base, token)) === status) return performance.now() - since;
    if (performance.now() - since > boundMs) throw new Error(`${base} did not answer ${status} within ${boundMs} ms`);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
