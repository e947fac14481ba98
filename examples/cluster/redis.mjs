// A redis-server of the example's own: a free loopback port, a temporary folder, no persistence.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
    socket.on('error', () => done(false));
  });
}

/** Starts redis-server (REDIS_SERVER overrides the command); resolves `{ url, stop }` once it answers PING. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'genauth-guard-cluster-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: 'ignore' });
  child.unref(); // it does not keep the caller alive; the caller's exit stops it (below)
  let exited = false;
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => {}); // raced below; a late one has nothing to reject
  child.once('exit', () => (exited = true));
  const stop = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop); // also when the caller dies of an error: no redis-server left behind
  try {
    for (let waited = 0; !(await Promise.race([ping(port), spawnError])); waited += 50) {
      if (exited || waited > 10_000) throw new Error(`redis-server did not start on port ${port}`);
      await sleep(50);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop };
}
