import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run soak` shortened to 3 s with few users (the full 60 s run is not part of `npm test`): it
// must still start the Express example against the emulator, go through a fault window and a grant
// change, and pass its own checks. Needs dist/ (npm test builds first).
const root = fileURLToPath(new URL('../..', import.meta.url));

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/soak.mjs', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run soak', () => {
  it('passes a 3 s run with 300 users, one fault window and one grant change', async () => {
    const run = await soak(['--duration', '3', '--users', '300', '--hot', '50', '--interval', '1']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^\| fault 1: 503, /m);
    expect(run.stdout).toMatch(/^\| no unexpected answer \| pass \| 0 unexpected \|$/m);
    expect(run.stdout).toMatch(/soak passed/);
  }, 20_000);

  it('refuses a bad flag with exit code 2', async () => {
    const run = await soak(['--users', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--users must be a positive number/);
  });
});
