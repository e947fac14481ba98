import { describe, expect, it } from 'vitest';
import { runCli } from './run.js';

// `genauth-guard routes <module>` on real app modules (test/cli/fixtures/), as a child process.
const fixture = (name: string) => `test/cli/fixtures/${name}`;

interface Report {
  framework: string;
  unguarded: Array<{ method: string; path: string; reason?: string }>;
}

describe('genauth-guard routes', () => {
  it.each<[string, string, Report['unguarded']]>([
    ['express-app.js', 'express', [{ method: 'DELETE', path: '/admin/users/:id' }, { method: 'GET', path: '/health' }]],
    ['koa-app.mjs', 'koa', [{ method: 'POST', path: '/reports' }]],
    ['fastify-app.cjs', 'fastify', [{ method: 'PUT', path: '/items/:id' }]],
    ['nest-unguarded.cjs', 'nest', [{ method: 'GET', path: '/reports' }, { method: 'POST', path: '/reports' }]],
    ['express-late-guard.cjs', 'express', [{ method: 'GET', path: '/billing/invoices' }, { method: 'GET', path: '/reports', reason: 'handler-before-guard' }]],
    // TypeScript's CommonJS output of `export default app`: the app is exports.default.
    ['express-ts-default.cjs', 'express', [{ method: 'GET', path: '/health' }]],
  ])('%s: lists the unguarded routes, exit 1; --json has the framework and the list', async (file, framework, unguarded) => {
    const text = await runCli(['routes', fixture(file)]);
    expect(text.code).toBe(1);
    // A reason, when there is one, follows the route in parentheses.
    expect(text.stdout).toBe(unguarded.map((r) => `${r.method} ${r.path}${r.reason === undefined ? '' : ` (${r.reason})`}\n`).join(''));
    expect(text.stderr).toContain(`${framework}: ${unguarded.length} unguarded route(s)`);
    const json = await runCli(['routes', fixture(file), '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ framework, unguarded });
  });

  it.each([
    ['express4-app.cjs', 'express'],
    ['fastify-guarded.js', 'fastify'],
    ['nest-guarded.cjs', 'nest'],
  ])('%s: every route guarded (or public), exit 0 and an empty list', async (file, framework) => {
    const { code, stdout, stderr } = await runCli(['routes', fixture(file), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ framework, unguarded: [] });
    expect(stderr).toContain(`${framework}: every route is guarded`);
  });

  it('a Fastify instance without the plugin fails closed: exit 1, nothing on stdout', async () => {
    const { code, stdout, stderr } = await runCli(['routes', fixture('fastify-no-plugin.js'), '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('the genauth-guard plugin is not registered');
  });

  it.each([
    ['not-an-app.mjs', 2, 'is not an Express, Koa, Fastify or Nest app'],
    ['no-such-app.js', 2, 'no such file'],
    ['no-export.mjs', 2, 'exports no app: export it as default or as "app"'],
    ['no-export.cjs', 2, 'exports no app: export it as default or as "app"'],
    ['throws.mjs', 1, 'could not be loaded: Error: cannot start: the database is down'],
  ])('%s: exit %i', async (file, exitCode, message) => {
    const { code, stdout, stderr } = await runCli(['routes', fixture(file)]);
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });
});
