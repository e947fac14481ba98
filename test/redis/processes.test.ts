// The key guarantee across real processes: three app instances (child processes running the built
// package, each with its own node-redis client) share one redis-server. A grant revoked in GenAuth and
// invalidated on one instance is denied by every instance within the bound the README states (the
// test measures it). Needs `npm run build` (npm test does it); skipped when dist/ is absent.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerFor, useEmulator } from '../fixtures.js';
import { freshPrefix, until } from './harness.js';
import { redisTestsRun, useRedisServer } from './server.js';

const run = redisTestsRun('test/redis/processes.test.ts');
const built = existsSync(fileURLToPath(new URL('../../dist/express.js', import.meta.url)));
const script = fileURLToPath(new URL('./processes/instance.mjs', import.meta.url));

/** Every instance must deny within this long of the invalidation being acknowledged (README states it). */
const BOUND_MS = 2000;

interface Child {
  process: ChildProcess;
  url: string;
}

function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = /\{"port":(\d+)\}/.exec(output);
      if (line) resolve({ process: child, url: `http://127.0.0.1:${line[1]}` });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`instance exited with ${code}: ${output}`)));
  });
}

async function status(child: Child, auth: string): Promise<number> {
  const response = await fetch(`${child.url}/reports`, { headers: { authorization: auth } });
  await response.arrayBuffer();
  return response.status;
}

describe.skipIf(!run || !built)('three instances in three processes sharing one Redis', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();
  let children: Child[] = [];

  beforeAll(async () => {
    const env = { GUARD_OPTIONS: JSON.stringify(emulator().guardOptions()), REDIS_URL: redis().url, REDIS_PREFIX: freshPrefix() };
    children = await Promise.all([startChild(env), startChild(env), startChild(env)]);
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => new Promise((resolve) => child.process.once('exit', resolve).kill('SIGTERM'))));
  });
  beforeEach(async () => {
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    expect((await fetch(`${children[1]!.url}/_invalidate?user=alice`, { method: 'POST' })).status).toBe(204); // the grant, back
  });

  it.each([
    ['invalidateUser', '?user=alice'],
    ['invalidateAll', '?all=1'],
  ])('a grant revoked in GenAuth, %s on one instance: every instance denies within the bound', async (how, query) => {
    const alice = await bearerFor(emulator(), 'alice');
    // Each instance caches alice's grants in its own process.
    await until(async () => (await Promise.all(children.map((child) => status(child, alice)))).every((s) => s === 200), 5000, 'all allowing');
    emulator().setGrants('alice', []);
    const invalidated = await fetch(`${children[0]!.url}/_invalidate${query}`, { method: 'POST' });
    expect(invalidated.status).toBe(204);
    const since = performance.now();
    const waits = await Promise.all(
      children.map(async (child) => {
        await until(async () => (await status(child, alice)) === 403, BOUND_MS, `${child.url} denying`);
        return performance.now() - since;
      }),
    );
    console.log(`${how} across processes: every instance denied within ${Math.max(...waits).toFixed(1)} ms`);
  });
});
