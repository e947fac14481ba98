import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard } from '../../src/core/guard.js';
import { runCli, startCli, type RunningCli } from './run.js';

// `genauth-guard emulator` as a child process: seeded from examples/seed/tenant.json, its printed
// environment and tokens used by a real guard and by `explain`, stopped by a signal.
const EXAMPLE = 'examples/seed/tenant.json';
let running: RunningCli | undefined;

afterEach(async () => {
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  running = undefined;
});

interface Ready {
  url: string;
  env: Record<string, string>;
  tokens: Record<string, string>;
}

function seedFile(seed: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'genauth-seed-'));
  const file = join(dir, 'tenant.json');
  writeFileSync(file, typeof seed === 'string' ? seed : JSON.stringify(seed));
  return file;
}

describe('genauth-guard emulator --seed', () => {
  it('--json: one line with the URL, the env of the one list and a token per user; the tokens verify, the grants are served', async () => {
    running = await startCli(['emulator', '--seed', EXAMPLE, '--json']);
    const ready = JSON.parse(running.firstLine) as Ready;
    expect(Object.keys(ready.env).sort()).toEqual(
      ['GENAUTH_ACCESS_KEY_ID', 'GENAUTH_ACCESS_KEY_SECRET', 'GENAUTH_AUDIENCE', 'GENAUTH_HOST', 'GENAUTH_ISSUER', 'GENAUTH_JWKS_URI', 'GENAUTH_NAMESPACE', 'GENAUTH_USER_POOL_ID'].sort(),
    );
    expect(ready.env).toMatchObject({ GENAUTH_HOST: ready.url, GENAUTH_USER_POOL_ID: 'demo-pool', GENAUTH_ACCESS_KEY_SECRET: 'demo-secret', GENAUTH_AUDIENCE: 'demo-app' });
    expect(Object.keys(ready.tokens)).toEqual(['alice', 'bob', 'carol']);

    // An app configured from the printed lines, as docs/cli.md shows.
    const { env } = ready;
    const guard = createGuard({
      genauth: { host: env.GENAUTH_HOST, userPoolId: env.GENAUTH_USER_POOL_ID!, accessKeyId: env.GENAUTH_ACCESS_KEY_ID, accessKeySecret: env.GENAUTH_ACCESS_KEY_SECRET! },
      jwt: { jwksUri: env.GENAUTH_JWKS_URI!, issuer: env.GENAUTH_ISSUER, audience: env.GENAUTH_AUDIENCE, algorithms: ['RS256'] },
    });
    try {
      const identity = await guard.authenticate({ method: 'GET', url: '/', headers: { authorization: `Bearer ${ready.tokens.alice}` } });
      expect(identity.userId).toBe('alice');
      expect((await guard.check({ userId: 'bob', resource: 'reports', action: 'reports:Admin' })).allowed).toBe(true); // through a role
      expect((await guard.check({ userId: 'carol', resource: 'servers', action: 'read' })).allowed).toBe(true); // through a group
      expect((await guard.check({ userId: 'alice', resource: 'disk:9', action: 'disk:Delete' })).allowed).toBe(false);
    } finally {
      await guard.close();
    }
    const explained = await runCli(['explain', '--user', 'bob', '--resource', 'reports', '--action', 'reports:Admin'], ready.env);
    expect(explained.code).toBe(0);
    // The API resource's apiIdentifier is served on the group's grant: API mode allows GET, not POST.
    expect((await runCli(['explain', '--user', 'carol', '--method', 'GET', '--path', '/api/v1/servers/1'], ready.env)).code).toBe(0);
    expect((await runCli(['explain', '--user', 'carol', '--method', 'POST', '--path', '/api/v1/servers/1'], ready.env)).code).toBe(1);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.stderr()).toContain('SIGTERM: closing the emulator');
    await expect(fetch(`${ready.url}/oidc/.well-known/jwks.json`)).rejects.toThrow();
  });

  it('tenant entries: a guard with genauth.tenantId reads the tenant\'s grants, one without the pool\'s; a token per user once', async () => {
    const file = seedFile({
      users: [
        { id: 'alice', grants: [{ resourceCode: 'reports', actions: ['reports:Read'] }] },
        { id: 'alice', tenant: 'acme', grants: [{ resourceCode: 'invoices', actions: ['invoices:Read'] }] },
        { id: 'dave', tenant: 'acme' },
      ],
    });
    running = await startCli(['emulator', '--seed', file, '--json']);
    const ready = JSON.parse(running.firstLine) as Ready;
    expect(Object.keys(ready.tokens)).toEqual(['alice', 'dave']);
    const { env } = ready;
    const guardOf = (tenantId?: string) =>
      createGuard({
        genauth: { host: env.GENAUTH_HOST, userPoolId: env.GENAUTH_USER_POOL_ID!, accessKeySecret: env.GENAUTH_ACCESS_KEY_SECRET!, ...(tenantId === undefined ? {} : { tenantId }) },
        jwt: { jwksUri: env.GENAUTH_JWKS_URI!, issuer: env.GENAUTH_ISSUER, audience: env.GENAUTH_AUDIENCE, algorithms: ['RS256'] },
        cache: false,
      });
    const pool = guardOf();
    const acme = guardOf('acme');
    try {
      expect((await pool.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })).allowed).toBe(true);
      expect((await pool.check({ userId: 'alice', resource: 'invoices', action: 'invoices:Read' })).allowed).toBe(false);
      expect((await acme.check({ userId: 'alice', resource: 'invoices', action: 'invoices:Read' })).allowed).toBe(true);
      expect((await acme.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' })).allowed).toBe(false);
      // A member with no grants: denied (an empty list), not GenAuth's "not a member" (a 503).
      expect((await acme.check({ userId: 'dave', resource: 'invoices', action: 'invoices:Read' })).allowed).toBe(false);
    } finally {
      await pool.close();
      await acme.close();
    }
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('emulator.jwksAlgorithms: the JWKS publishes a key for each algorithm listed', async () => {
    const file = seedFile({ emulator: { jwksAlgorithms: ['RS256', 'ES256'] }, users: [{ id: 'alice' }] });
    running = await startCli(['emulator', '--seed', file, '--json']);
    const ready = JSON.parse(running.firstLine) as Ready;
    const { keys } = (await (await fetch(ready.env.GENAUTH_JWKS_URI!)).json()) as { keys: Array<{ alg: string }> };
    expect(keys.map((key) => key.alg).sort()).toEqual(['ES256', 'RS256']);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('text: the URL, the env lines and the tokens; SIGINT stops it with exit 0', async () => {
    running = await startCli(['emulator', '--seed', EXAMPLE]);
    expect(running.firstLine).toMatch(/^GenAuth emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = running.firstLine.split(' ').at(-1)!;
    await expect.poll(() => running!.stdout()).toMatch(/^carol ey/m);
    expect(running.stdout()).toContain(`GENAUTH_HOST=${url}\n`);
    expect(running.stdout()).toContain(`GENAUTH_JWKS_URI=${url}/oidc/.well-known/jwks.json\n`);
    expect(running.stdout()).toMatch(/^alice eyJ[\w-]+\.[\w-]+\.[\w-]+$/m);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
  });

  it('without --seed: an empty tenant with the default credentials', async () => {
    running = await startCli(['emulator', '--json']);
    const ready = JSON.parse(running.firstLine) as Ready;
    expect(ready.env.GENAUTH_USER_POOL_ID).toBe('emulator-pool');
    expect(ready.tokens).toEqual({});
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('--port: listens there; a port in use is exit 1', async () => {
    running = await startCli(['emulator', '--json']);
    const port = new URL((JSON.parse(running.firstLine) as Ready).url).port;
    const busy = await runCli(['emulator', '--port', port]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  });

  it.each([
    ['a bad field', { users: [{ id: 'alice', grants: [{ resourceCode: 'r', actions: 'r:Read' }] }] }, '$.users[0].grants[0].actions must be an array of non-empty strings'],
    ['a duplicate resource (refused by the emulator)', { resources: [{ code: 'ecs', type: 'API' }, { code: 'ecs', type: 'API' }] }, '$.resources[1] was refused'],
    ['an authorization in a namespace that does not exist', { authorizations: [{ namespace: 'nope', targetType: 'ROLE', targetIdentifiers: ['r'], resources: [{ code: 'c', actions: ['a'], resourceType: 'DATA' }] }] }, '$.authorizations[0] was refused'],
    ['not JSON', '{ users: [] }', 'not JSON'],
  ])('a bad seed file is exit 1 naming where: %s', async (_name, seed, message) => {
    const file = seedFile(seed);
    const { code, stdout, stderr } = await runCli(['emulator', '--seed', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}: `);
    expect(stderr).toContain(message);
  });

  it('a file that is not JSON (a secret file given by mistake) is exit 1, and none of its text is echoed', async () => {
    const file = seedFile('whsec_9f8a7b6c5d4e3f2a1b0c\n');
    const { code, stdout, stderr } = await runCli(['emulator', '--seed', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}: not JSON`);
    expect(stderr).not.toContain('whsec');
    const inside = seedFile('{"emulator": {"accessKeySecret": "s3cr3t-of-the-tenant"}, "users": [oops]}');
    const bad = await runCli(['emulator', '--seed', inside]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${inside}: not JSON`);
    expect(bad.stderr).not.toMatch(/s3cr3t|of-the|oops/);
    // Where the parser says where, the place is given as a line and a column.
    const comma = seedFile('{\n  "emulator": {"accessKeySecret": "s3cr3t"}\n  "users": []\n}');
    const placed = await runCli(['emulator', '--seed', comma]);
    expect(placed.code).toBe(1);
    expect(placed.stderr).toContain(`${comma}: not JSON (line 3, column 3)`);
    expect(placed.stderr).not.toContain('s3cr3t');
  });

  it('a missing seed file is exit 2', async () => {
    const { code, stderr } = await runCli(['emulator', '--seed', 'no/such/tenant.json']);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot read the seed file');
  });
});
