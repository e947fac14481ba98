import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Runs the demo exactly as `npm run demo` does (built package, embedded emulator), reads the curl lines
// it prints, and sends each request: they must give the statuses the comments promise.
const root = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGTERM');
});

function startDemo(): Promise<string> {
  child = spawn(process.execPath, ['examples/express/demo.mjs'], { cwd: root, env: { ...process.env, PORT: '0' } });
  let output = '';
  return new Promise((resolve, reject) => {
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl+C')) resolve(output);
    });
    child!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child!.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)));
  });
}

interface CurlLine {
  expected: number;
  method: string;
  url: string;
  authorization?: string;
}

function parse(output: string): CurlLine[] {
  const lines = output.split('\n');
  const result: CurlLine[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const comment = /^# (\d{3}):/.exec(lines[i]!);
    const curl = /^curl -i -X (\w+) (\S+)(?: -H 'Authorization: ([^']+)')?$/.exec(lines[i + 1]!);
    if (comment && curl) {
      result.push({ expected: Number(comment[1]), method: curl[1]!, url: curl[2]!, authorization: curl[3] });
    }
  }
  return result;
}

describe('npm run demo', () => {
  it('prints curl lines that give 200, 401 and 403 as promised', async () => {
    const output = await startDemo();
    const lines = parse(output);
    expect(lines.map((l) => l.expected).sort()).toEqual([200, 401, 403]);
    for (const line of lines) {
      const res = await fetch(line.url, {
        method: line.method,
        headers: line.authorization ? { authorization: line.authorization } : {},
      });
      expect(res.status, `${line.method} ${line.url}`).toBe(line.expected);
    }
  });
});
