import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { redisTestsRun } from '../redis/server.js';

// Runs examples/cluster/run.mjs as its README says (built package, its own redis-server, three
// instances in child processes, the emulator's webhook on one), non-interactively: it must exit 0,
// show every instance allowing alice before the revocation and answering 403 after it, and leave no
// child behind. Skipped without redis-server (unless REQUIRE_REDIS=1) or without dist/.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = redisTestsRun('test/examples/cluster.test.ts');
const built = existsSync(fileURLToPath(new URL('../../dist/express.js', import.meta.url)));

function runExample(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['examples/cluster/run.mjs', '--revoke', '--exit'], { cwd: root });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

/** Whether something accepts a TCP connection on the loopback port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(!socket.destroy()));
    socket.once('error', () => resolve(false));
  });

describe.skipIf(!run || !built)('examples/cluster/run.mjs --revoke --exit', () => {
  it('every instance answers 403 after a grant is revoked in GenAuth and delivered to one of them', async () => {
    const { code, output } = await runExample();
    expect(code, output).toBe(0);
    const urls = [...output.matchAll(/API on (http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => match[1]);
    expect(new Set(urls).size, output).toBe(3);
    expect(output).toContain('alice on each instance before: 200 200 200');
    expect(output).toMatch(/webhook permission:revoke -> instance 1: 204/);
    for (const url of urls) expect(output).toMatch(new RegExp(`\\(${url}\\): 403 after \\d+\\.\\d ms`));
    expect(output).toMatch(/every instance answered 403 within \d+\.\d ms of the revocation/);
    // Nothing is left listening: the instances and redis-server were stopped on exit.
    for (const url of urls) await expect(fetch(`${url}/health`)).rejects.toThrow();
    const redisPort = /redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    expect(await listening(Number(redisPort))).toBe(false);
  }, 60_000);
});
