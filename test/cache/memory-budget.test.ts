import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Honest accounting: the heap a process grows by while the cache fills stays within `cache.maxBytes`,
// with grant sets shared and with every set distinct (the worst case). bench/memory-shared.mjs loads
// the users through the real path (emulator over loopback) in a fresh Node with --expose-gc and reads
// the heap after full GCs. Needs dist/ (npm test builds first).
//
// Tolerance: the heap may exceed what the cache charges by 10 % plus 256 KiB (what a full GC leaves
// behind and lru-cache's lists growing by half when they fill), and never the budget by more than that.
const root = fileURLToPath(new URL('../..', import.meta.url));
const BUDGET = 4 * 2 ** 20;
const within = (charged: number) => charged * 1.1 + 256 * 1024;

interface Figures {
  users: number;
  cached: number;
  sets: number;
  charged: number;
  heapGrowth: number;
  heapPerUser: number;
  nextRequestCalls: number;
}

function measure(args: string[]): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', 'bench/memory-shared.mjs', '--json', '--budget', String(BUDGET), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as Figures) : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

describe('the heap stays within the byte budget', () => {
  it('6,000 users sharing 20 sets: all cached and warm, the heap within what is charged', async () => {
    const run = await measure(['--users', '6000', '--sets', '20']);
    expect(run.cached).toBe(6050); // and the 50 warm-up users, who share a set of their own
    expect(run.sets).toBe(21);
    expect(run.nextRequestCalls).toBe(0);
    expect(run.charged).toBeLessThanOrEqual(BUDGET);
    expect(run.heapGrowth).toBeLessThanOrEqual(within(run.charged));
    // A few hundred bytes a user on top of the sets (under 400 at 100,000 users: `npm run bench`'s
    // mem-shared row; lru-cache's lists and Map grow by steps, so fewer users pay a little more each).
    expect(run.heapPerUser).toBeLessThan(600);
  }, 120_000);

  it('400 users each with a set of their own: the budget binds, the heap within it', async () => {
    const run = await measure(['--users', '400', '--sets', '0']);
    expect(run.cached).toBeLessThan(400);
    expect(run.sets).toBeLessThanOrEqual(run.cached);
    expect(run.nextRequestCalls).toBeGreaterThan(0);
    expect(run.charged).toBeLessThanOrEqual(BUDGET);
    expect(run.heapGrowth).toBeLessThanOrEqual(within(run.charged));
  }, 120_000);
});
