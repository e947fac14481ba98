import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerFor, seedStandardTenant, useEmulator } from '../fixtures.js';
import { PROJECT_KINDS, compile, createProject, pack, repoRoot } from './fresh-project.js';
import { emulatorEnv } from '../../src/cli/emulator.js';

// "Done when" of the packaging work: the tarball users get, installed into a fresh TypeScript project
// per module setup, compiles README's Express quick start with the project's own strict `tsc`
// (skipLibCheck off: our declarations must hold on their own), and the compiled app answers 200, 401
// and 403 as promised when pointed at a tenant (the emulator) through the documented variables.
const emulator = useEmulator();
const quickstart = readFileSync(join(repoRoot, 'examples/express/quickstart.ts'), 'utf8');
// The framework-neutral entry and the test kit need no framework's types either.
const neutral = `import { createGuard } from 'genauth-guard';
import { startEmulator } from 'genauth-guard/testing';
export const kit = { createGuard, startEmulator };
`;
// Typed routes through the published declarations: req.params comes from the path.
const typedRoutes = `import express from 'express';
import type { ExpressGuard } from 'genauth-guard/express';
export function routes(guard: ExpressGuard): void {
  const app = express();
  app.post('/b/:id', guard.requirePermission((req) => \`ecs:\${req.params.id}\`, 'ecs:Start'));
  // @ts-expect-error the path has no :serverId
  app.post('/b/:id', guard.requirePermission((req) => \`ecs:\${req.params.serverId}\`, 'ecs:Start'));
}
`;
let workdir = '';
let tarball = '';
const children: ChildProcess[] = [];

beforeAll(() => {
  workdir = mkdtempSync(join(tmpdir(), 'genauth-guard-pack-'));
  tarball = pack(workdir);
});

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** The environment a deployment sets (ENV.md's names), pointing at the emulator. */
function tenantEnvironment(port: number): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, PORT: String(port), ...emulatorEnv(emulator()) };
}

/** Starts the compiled app and waits until it accepts connections (or fails if it exits first). */
async function start(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/quickstart.js'], { cwd: dir, env: tenantEnvironment(port) });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the quick start exited with ${child.exitCode}: ${output}`);
    try {
      await fetch(`${base}/`);
      return base;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('the packed tarball in a fresh TypeScript project', () => {
  it.each(PROJECT_KINDS)('$name: compiles README\'s Express quick start and it answers 200 / 401 / 403', async (kind) => {
    seedStandardTenant(emulator());
    const dir = join(workdir, kind.name.replace(/\W+/g, '-'));
    createProject(dir, kind, tarball, { 'quickstart.ts': quickstart, 'neutral.ts': neutral, 'typed-routes.ts': typedRoutes });
    compile(dir);
    const base = await start(dir);
    const call = (authorization?: string) =>
      fetch(`${base}/api/v1/servers/1/start`, { method: 'POST', headers: authorization ? { authorization } : {} });

    const allowed = await call(await bearerFor(emulator(), 'alice'));
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ started: '1', by: 'alice' });
    expect((await call()).status).toBe(401);
    expect((await call(await bearerFor(emulator(), 'bob'))).status).toBe(403);
  }, 240_000);
});

// @types/node moves things between majors (25 took `JsonWebKey` out of `node:crypto`, 26 swapped
// `tracingChannel`'s type parameters): the declarations must compile under the newest one as under the
// repository's (20), with skipLibCheck off. `types-node-26` is an npm alias of @types/node 26.
describe('the packed declarations under the newest @types/node', () => {
  const nodeTypes = { folder: 'types-node-26', packages: ['typescript'] };
  it.each(PROJECT_KINDS.filter((kind) => kind.moduleResolution === 'node16'))('$name: the neutral entry and the test kit compile', (kind) => {
    const dir = join(workdir, `node-types-${kind.name.replace(/\W+/g, '-')}`);
    createProject(dir, kind, tarball, { 'neutral.ts': neutral }, nodeTypes);
    expect(readFileSync(join(dir, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).toMatch(/"version": "26\./);
    compile(dir);
  }, 240_000);
});
