// Real redis-server processes for the Redis tests: each starts on a free loopback port of its own (no
// shared database, never a mock), with persistence off, and is killed after. Where redis-server is not
// installed the Redis tests skip with a one-line notice, unless REQUIRE_REDIS=1 (CI), which fails them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

const found = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

/** redis-server (and redis-cli, for the cluster) are installed. */
export const REDIS_INSTALLED = found('redis-server') && found('redis-cli');

/**
 * Whether this file's Redis tests run: true when redis-server is installed; false, with a one-line
 * notice, when it is not; throws (the file fails) when it is not and REQUIRE_REDIS=1.
 */
export function redisTestsRun(file: string): boolean {
  if (REDIS_INSTALLED) return true;
  if (process.env.REQUIRE_REDIS === '1') throw new Error(`${file}: REQUIRE_REDIS=1 but redis-server/redis-cli are not installed`);
  console.warn(`skipped ${file}: redis-server is not installed (set REQUIRE_REDIS=1 to make this a failure)`);
  return false;
}

/** A port that was free a moment ago (redis-server has no `--port 0`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A whole reply: one line (`+`, `-`, `:`), or a bulk string's length line and its bytes. */
function complete(text: string): boolean {
  const end = text.indexOf('\r\n');
  if (end < 0) return false;
  if (!text.startsWith('$')) return true;
  const length = Number(text.slice(1, end));
  return length < 0 || Buffer.byteLength(text) >= end + 2 + length + 2;
}

/** Sends one inline command and resolves the first reply line (`+PONG`, `$12`, ...), or rejects. */
export function ask(port: number, command: string, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer')), ms);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (!complete(text)) return;
      clearTimeout(timer);
      socket.end();
      resolve(text);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class PortTaken extends Error {
  constructor(port: number) {
    super(`port ${port} is another redis-server's`);
  }
}

/** One redis-server process on its own port; `kill` and `start` again keep the port (a restart). */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts (or restarts) the server on its port and waits until it answers PING. */
  start(): Promise<void>;
  /** Kills the server at once (SIGKILL: no shutdown, the keys are lost) and waits for its exit. */
  kill(): Promise<void>;
  /** Stops the server for good and removes its folder. */
  stop(): Promise<void>;
}

/** A redis-server on a free loopback port, persistence off, its files in a folder of its own. */
export async function startRedisServer(extra: readonly string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'genauth-guard-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    output = '';
    started.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    started.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    for (let waited = 0; ; waited += 20) {
      if (child !== started) {
        if (/already in use/i.test(output)) throw new PortTaken(port);
        throw new Error(`redis-server on port ${port} exited: ${output}`);
      }
      let answered = false;
      try {
        answered = (await ask(port, 'PING', 200)).startsWith('+PONG');
      } catch {
        // not listening yet
      }
      // Another test file's server may hold the port (it was free a moment ago): ours then fails to
      // bind and exits, and the PING above was answered by the other one. Only our process will do.
      if (answered) {
        if ((await ask(port, 'INFO server')).includes(`process_id:${started.pid}\r\n`)) return;
        throw new PortTaken(port);
      }
      if (waited > 10_000) throw new Error(`redis-server on port ${port} did not answer: ${output}`);
      await sleep(20);
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    if (running === undefined) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  for (let tries = 1; ; tries++) {
    try {
      await start();
      break;
    } catch (error) {
      if (!(error instanceof PortTaken) || tries === 5) throw error;
      await kill();
      port = await freePort();
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of three masters (no replicas), each a redis-server of its own. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

/** Starts three `--cluster-enabled yes` servers, joins them with `redis-cli --cluster create`, waits for `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = () => Promise.all(nodes.map((node) => node.stop())).then(() => undefined);
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000']));
    }
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (let waited = 0; ; waited += 50) {
      const states = await Promise.all(nodes.map((node) => ask(node.port, 'CLUSTER INFO').catch(() => '')));
      if (states.every((state) => state.includes('cluster_state:ok'))) break;
      if (waited > 15_000) throw new Error('the cluster did not reach cluster_state:ok');
      await sleep(50);
    }
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A redis-server for the file's tests (started in beforeAll, stopped in afterAll); call the getter inside tests. */
export function useRedisServer(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('redis-server starts in beforeAll');
    return server;
  };
}
