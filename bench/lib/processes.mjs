// Child processes of the bench runners (servers under test, the emulator): started with a READY
// handshake, stopped together, killed if the runner exits first.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const children = [];

/**
 * Starts a bench process and resolves when it prints `READY <port> [<port>...]` (`child.port`,
 * `child.ports`); rejects with the tail of its stderr if it exits first or stays silent for 60 s
 * (`BENCH_READY_TIMEOUT` seconds: under valgrind on a busy machine, start-up alone can take longer).
 */
const READY_TIMEOUT = Number(process.env.BENCH_READY_TIMEOUT || 60);

export function startProcess(command, args, env, name) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`${name}: no READY line within ${READY_TIMEOUT} s`)), READY_TIMEOUT * 1000);
    function fail(err) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      err.message += stderr ? `\n--- ${name} stderr ---\n${stderr.slice(-2000)}` : '';
      reject(err);
    }
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8000); });
    child.stdout.on('data', (d) => {
      if (child.ports) return;
      stdout += d;
      const m = /READY ([\d ]+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.ports = m[1].trim().split(' ').map(Number);
        child.port = child.ports[0];
        resolvePromise(child);
      }
    });
    child.on('exit', (code, signal) => {
      child.exited = { code, signal };
      if (!child.ports) fail(new Error(`${name}: exited early (code ${code}, signal ${signal})`));
    });
  });
}

/** SIGTERM to every process still running, then wait (3 s at most) for them to exit. */
export async function stopAll() {
  const live = children.filter((c) => !c.exited);
  for (const c of live) c.kill('SIGTERM');
  await Promise.all(live.map((c) => new Promise((r) => { if (c.exited) r(); else { c.once('exit', r); setTimeout(r, 3000); } })));
}
process.on('exit', () => { for (const c of children) if (!c.exited) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stopAll().finally(() => process.exit(130)); });

