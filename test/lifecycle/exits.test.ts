// After shutdown nothing of the guard's keeps the process alive: each app runs in a child process of
// its own (exits/app.mjs, on the built package), serves a few requests against the emulator (and a real
// redis-server), shuts down as its framework says, and must then exit by itself with code 0. Timers,
// sockets, undici pools, Redis connections and subscriptions left open would hold it: the test kills
// it after a generous bound and fails. Needs `npm run build` (npm test does it); skipped without dist/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, bearerFor, resetToAliceReading, useEmulator } from '../fixtures.js';
import { freePort } from '../redis/server.js';
import { REDIS_INSTALLED, useRedisServer } from '../redis/server.js';

const built = existsSync(fileURLToPath(new URL('../../dist/express.js', import.meta.url)));
const script = fileURLToPath(new URL('./exits/app.mjs', import.meta.url));

/** Far longer than a clean exit takes: a process still alive then is held by something. */
const BOUND_MS = 15_000;

interface Exit {
  code: number | null;
  output: string;
  result: { statuses: number[]; inFlight?: number } | undefined;
}

function runApp(env: Record<string, string>): Promise<Exit> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = /\{"statuses".*\}/.exec(output);
      resolve({ code, output, result: line === null ? undefined : JSON.parse(line[0]) });
    });
  });
}

const FRAMEWORKS: Array<[string, Record<string, string>]> = [
  ['Express', { FRAMEWORK: 'express', WEBHOOK: '1' }],
  ['Koa', { FRAMEWORK: 'koa', WEBHOOK: '1' }],
  ['Fastify (onClose)', { FRAMEWORK: 'fastify', WEBHOOK: '1' }],
  ['Nest forRoot (app.close())', { FRAMEWORK: 'nest' }],
  ['Nest forRootAsync (app.close())', { FRAMEWORK: 'nest', ASYNC: '1' }],
];

describe.skipIf(!built)('the process exits by itself after shutdown', () => {
  const emulator = useEmulator();
  const redis = REDIS_INSTALLED ? useRedisServer() : undefined;
  let token = '';

  beforeEach(async () => {
    resetToAliceReading(emulator());
    token = await bearerFor(emulator(), 'alice');
  });

  const run = (env: Record<string, string>) => runApp({ GUARD_OPTIONS: JSON.stringify(emulator().guardOptions()), TOKEN: token, ...env });

  /** Exited 0 by itself, having answered as expected. */
  function expectClean(exit: Exit, statuses: number[]): void {
    expect(exit.code, exit.output).toBe(0);
    expect(exit.result?.statuses).toEqual(statuses);
  }

  const withWebhook = (env: Record<string, string>) => (env.WEBHOOK === '1' ? [200, 200, 401, 204] : [200, 200, 401]);

  it.each(FRAMEWORKS)('%s', async (_name, env) => {
    expectClean(await run(env), withWebhook(env));
  });

  it.each(FRAMEWORKS)('%s, after warm-up and ready()', async (_name, env) => {
    expectClean(await run({ ...env, WARM: '1', READY: '1' }), withWebhook(env));
  });

  it.each(FRAMEWORKS)('%s, closed while a request waits on GenAuth: it gets a 503', async (_name, env) => {
    emulator().fault({ kind: 'hang', path: RESOURCES });
    const exit = await run({ ...env, IN_FLIGHT: '1', WEBHOOK: '' });
    expect(exit.code, exit.output).toBe(0);
    expect(exit.result?.inFlight).toBe(503);
  });

  it.each(FRAMEWORKS.slice(0, 2))('%s, the app forgot guard.close()', async (_name, env) => {
    expectClean(await run({ ...env, FORGET_CLOSE: '1' }), withWebhook(env));
  });

  describe.skipIf(!REDIS_INSTALLED)('with a shared Redis tier', () => {
    it.each(FRAMEWORKS)('%s', async (_name, env) => {
      expectClean(await run({ ...env, REDIS_URL: redis!().url }), withWebhook(env));
    });

    it.each(FRAMEWORKS.slice(0, 2))('%s, the app forgot guard.close() (it closes its own client)', async (_name, env) => {
      expectClean(await run({ ...env, REDIS_URL: redis!().url, FORGET_CLOSE: '1' }), withWebhook(env));
    });

    it('Redis never reachable (a client that never connected, nothing listening)', async () => {
      const port = await freePort();
      expectClean(await run({ FRAMEWORK: 'express', REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_UNCONNECTED: '1' }), [200, 200, 401]);
    });
  });
});
