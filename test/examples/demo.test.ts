import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Runs the demo exactly as `npm run demo` does (built package, embedded emulator), reads the curl lines
// it prints, and sends each request: they must give the statuses the comments promise.
const root = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;
let occupier: Server | undefined;

afterAll(() => {
  child?.kill('SIGTERM');
  occupier?.close();
});

function startDemo(port = '0'): Promise<string> {
  child?.kill('SIGTERM');
  child = spawn(process.execPath, ['examples/express/demo.mjs'], { cwd: root, env: { ...process.env, PORT: port } });
  let output = '';
  return new Promise((resolve, reject) => {
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl+C')) resolve(output);
    });
    child!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child!.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)));
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

/** Holds a loopback port, as another program on the developer's machine would. */
function occupyPort(): Promise<number> {
  return new Promise((resolve) => {
    occupier = createServer().listen(0, '127.0.0.1', () => resolve((occupier!.address() as { port: number }).port));
  });
}

async function expectWorkingCurlLines(output: string): Promise<void> {
  const lines = parse(output);
    expect(lines.map((l) => l.expected).sort()).toEqual([200, 401, 403]);
    for (const line of lines) {
      const res = await fetch(line.url, {
        method: line.method,
        headers: line.authorization ? { authorization: line.authorization } : {},
      });
      expect(res.status, `${line.method} ${line.url}`).toBe(line.expected);
    }
}

describe('npm run demo', () => {
  it('prints curl lines that give 200, 401 and 403 as promised', async () => {
    await expectWorkingCurlLines(await startDemo());
  });

  it('takes a free port when its port is busy, and says so', async () => {
    const busy = await occupyPort();
    const output = await startDemo(String(busy));
    expect(output).toContain(`Port ${busy} is busy`);
    expect(output).not.toContain(`127.0.0.1:${busy}/`);
    await expectWorkingCurlLines(output);
  });
});
