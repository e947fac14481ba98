import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';
import { runCli } from './run.js';

// `genauth-guard explain` against the package's emulator over loopback, as a child process.
const emulator = useEmulator();

/** The one list of variable names, pointing at the emulator. */
function tenantEnv(): Record<string, string> {
  const e = emulator();
  return { GENAUTH_HOST: e.url, GENAUTH_USER_POOL_ID: e.userPoolId, GENAUTH_ACCESS_KEY_SECRET: e.accessKeySecret };
}

beforeEach(() => seedStandardTenant(emulator()));

describe('genauth-guard explain', () => {
  it('allowed: exit 0, the verdict and the grant table on stdout, progress on stderr', async () => {
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'ecs:1', '--action', 'ecs:Start'], tenantEnv());
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ALLOWED \(allowed\): ecs:1 needs all of ecs:Start$/m);
    expect(stdout).toMatch(/^ALLOW +ecs:1 \(\/api\/v1\/servers\) +API +ecs:Start,ecs:Stop +applies +decisive$/m);
    expect(stderr).toContain("loading alice's grants");
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('denied: exit 1, the deciding DENY and the ALLOW it overrode', async () => {
    const { code, stdout } = await runCli(['explain', '--user', 'alice', '--resource', 'disk:9', '--action', 'disk:Delete'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toMatch(/^DENIED \(denied\): disk:9/m);
    expect(stdout).toMatch(/^DENY +disk:9 .* applies +decisive$/m);
    expect(stdout).toMatch(/^ALLOW +disk:\* .* overridden_by_deny +overridden by DENY disk:9$/m);
  });

  it('an ALLOW dropped for a field spelt twice: its row says so', async () => {
    emulator().setRawGrants('carol', [{ resourceCode: 'reports', actions: ['reports:Read'], Actions: ['reports:Read'], effect: 'ALLOW' }]);
    const { code, stdout } = await runCli(['explain', '--user', 'carol', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ALLOW +reports +.*action_mismatch +a field spelt twice: ALLOW dropped$/m);
  });

  it('--json prints the explanation object (exit code still says the verdict)', async () => {
    const { code, stdout } = await runCli(['explain', '--user', 'alice', '--resource', 'disk:9', '--action', 'disk:Delete', '--json'], tenantEnv());
    expect(code).toBe(1);
    const explanation = JSON.parse(stdout) as { allowed: boolean; reason: string; grant: { code: string; effect: string }; grants: Array<{ outcome: string; grant: { code: string; actionSet: unknown } }> };
    expect(explanation).toMatchObject({ allowed: false, reason: 'denied', resource: 'disk:9', actions: ['disk:Delete'], grant: { code: 'disk:9', effect: 'DENY' } });
    expect(explanation.grants.map((g) => [g.grant.code, g.outcome])).toContainEqual(['disk:*', 'overridden_by_deny']);
    expect(explanation.grants.find((g) => g.grant.code === 'disk:9')?.grant.actionSet).toEqual(['disk:delete']);
  });

  it('--any: one of the actions suffices', async () => {
    const args = ['explain', '--user', 'bob', '--resource', 'reports', '--action', 'reports:Read', '--action', 'reports:Admin'];
    expect((await runCli(args, tenantEnv())).code).toBe(1);
    expect((await runCli([...args, '--any'], tenantEnv())).code).toBe(0);
  });

  it('API mode: --method and --path, with --public-path', async () => {
    emulator().setGrants('carol', [{ resourceCode: 'users', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/users/*' }]);
    const allowed = await runCli(['explain', '--user', 'carol', '--method', 'GET', '--path', '/api/v1/users/7', '--json'], tenantEnv());
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ allowed: true, method: 'GET', path: '/api/v1/users/7', action: 'read' });
    const refused = await runCli(['explain', '--user', 'carol', '--method', 'DELETE', '--path', '/api/v1/users/7'], tenantEnv());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^DENIED \(no_grant\): DELETE \/api\/v1\/users\/7 needs delete$/m);
    const open = await runCli(['explain', '--user', 'carol', '--method', 'GET', '--path', '/health', '--public-path', '/health', '--json'], tenantEnv());
    expect(open.code).toBe(0);
    expect(JSON.parse(open.stdout)).toMatchObject({ allowed: true, reason: 'public' });
    // As the middleware by default: ALLOW patterns and public paths match case-sensitively.
    const otherCase = await runCli(['explain', '--user', 'carol', '--method', 'GET', '--path', '/API/V1/USERS/7', '--json'], tenantEnv());
    expect(otherCase.code).toBe(1);
    expect(JSON.parse(otherCase.stdout)).toMatchObject({ allowed: false, reason: 'no_grant' });
    const notPublic = await runCli(['explain', '--user', 'carol', '--method', 'GET', '--path', '/HEALTH', '--public-path', '/health', '--json'], tenantEnv());
    expect(notPublic.code).toBe(1);
    expect(JSON.parse(notPublic.stdout)).toMatchObject({ allowed: false, reason: 'no_grant' });
  });

  it('--emulator URL: the emulator\'s default credentials, no GENAUTH_* needed', async () => {
    const { code, stdout } = await runCli(['explain', '--emulator', emulator().url, '--user', 'bob', '--resource', 'reports', '--action', 'reports:Admin']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ALLOWED/m);
  });

  it('a user with no grants: denied with "the user has no grants"', async () => {
    const { code, stdout } = await runCli(['explain', '--user', 'nobody', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toContain('the user has no grants');
  });

  it('refused credentials: exit 1, the variables to check named, the secret never echoed', async () => {
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], { ...tenantEnv(), GENAUTH_ACCESS_KEY_SECRET: 'not-the-secret-42' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('GenAuth refused the credentials');
    expect(stderr).not.toContain('not-the-secret-42');
  });

  it('GenAuth unreachable (a 503 on every call): exit 3, no upstream text', async () => {
    emulator().fault({ kind: 'status', status: 503, path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain('GenAuth could not be reached (http_status, HTTP 503');
    expect(stderr).not.toContain('emulated HTTP 503');
  });

  it.each([
    ['a permission space the pool does not have (GENAUTH_NAMESPACE)', { GENAUTH_NAMESPACE: 'no-such-space' }, undefined, 'genauth.namespace'],
    ['a host that is not the GenAuth API (an HTML page)', {}, { kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>a portal</html>' }, 'genauth.host'],
    ['a host with a path (HTTP 404)', {}, { kind: 'status', status: 404 }, 'genauth.host'],
    // An answer came (an HTTP 200 envelope), only without the grants list: a host to check, not an outage.
    ['an envelope without its grants list', {}, { kind: 'respond', status: 200, body: { statusCode: 200, data: { portal: 'a portal' } } }, 'genauth.host'],
  ] as const)('%s: exit 1 (a mistake to fix, not an outage to retry), the option named, no upstream text', async (_label, env, fault, option) => {
    if (fault !== undefined) emulator().fault({ ...fault, path: RESOURCES } as never);
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], { ...tenantEnv(), ...env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const last = stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain("loading alice's grants: ");
    expect(last).toContain(option);
    expect(last).not.toContain('could not be reached');
    expect(stderr).not.toContain('a portal');
    expect(stderr).not.toContain(emulator().accessKeySecret);
  });

  it('GenAuth answering statusCode 400 (a request it will refuse again): exit 1, its statuses, not "could not be reached", no upstream text', async () => {
    emulator().fault({ kind: 'body-error', statusCode: 400, apiCode: 1234, message: 'upstream-detail-4e1b', path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('statusCode 400, apiCode 1234');
    expect(stderr).not.toContain('could not be reached');
    expect(stderr).not.toContain('upstream-detail-4e1b');
  });

  it('an answer larger than genauth.maxResponseBytes (an HTTP 200): exit 1 naming the limit and how to raise it, not "could not be reached"', async () => {
    // A limit setting, not an outage: a retry would be cut off the same way.
    emulator().fault({ kind: 'respond', status: 200, body: `{"statusCode":200,"data":{"list":[],"pad":"${'x'.repeat(8 * 1024 * 1024)}"}}`, path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const last = stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain("loading alice's grants: ");
    expect(last).toContain('genauth.maxResponseBytes (8388608 bytes)');
    expect(last).toContain('--max-response-bytes');
    expect(last).not.toContain('could not be reached');
  });

  it('--max-response-bytes sets the limit: the real answer past it is exit 1 with that limit named; under it, the verdict', async () => {
    const args = ['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'];
    const cut = await runCli([...args, '--max-response-bytes', '256'], tenantEnv());
    expect(cut.code).toBe(1);
    expect(cut.stdout).toBe('');
    expect(cut.stderr).toContain('genauth.maxResponseBytes (256 bytes)');
    const enough = await runCli([...args, '--max-response-bytes', '65536'], tenantEnv());
    expect(enough.code).toBe(0);
    expect(enough.stdout).toMatch(/^ALLOWED/m);
    for (const bad of ['0', '-1', '1.5', 'lots']) {
      const usage = await runCli([...args, `--max-response-bytes=${bad}`], tenantEnv());
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--max-response-bytes must be a positive integer');
    }
  });

  it('a 503 with a body past the limit is still an outage: exit 3', async () => {
    emulator().fault({ kind: 'respond', status: 503, body: 'x'.repeat(8 * 1024 * 1024 + 1), path: RESOURCES });
    const { code, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(3);
    expect(stderr).toContain('could not be reached (too_large, HTTP 503)');
    expect(stderr).not.toContain('maxResponseBytes');
  });

  it('GenAuth answering a partial list (fewer grants than its totalCount): exit 1, told as that answer, not "could not be reached"', async () => {
    // An answer came (an HTTP 200 envelope): GenAuth left grants out, a DENY perhaps; the call has no
    // paging to fetch the rest by, so a retry is likely to meet the same answer.
    emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, data: { totalCount: 3, list: [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' }] } }, path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const last = stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain("loading alice's grants: ");
    expect(last).toContain('partial list');
    expect(last).toContain('genauth.acceptPartialLists');
    expect(stderr).not.toContain('could not be reached');
  });

  it('the connection dropped before any answer (no status): an outage, exit 3', async () => {
    emulator().fault({ kind: 'drop', path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain('could not be reached (network');
  });

  describe('a tenant (GENAUTH_TENANT_ID, GENAUTH_TENANT_HEADER: genauth.tenantId and tenantHeader; the emulator\'s tenants)', () => {
    const args = ['explain', '--user', 'dave', '--resource', 'invoices', '--action', 'invoices:Read'];
    beforeEach(() => {
      // dave holds invoices:Read inside tenant acme only; the pool gives him nothing.
      emulator().setGrants('dave', [{ resourceCode: 'invoices', actions: ['invoices:Read'] }], { tenant: 'acme' });
    });

    it("a member of the tenant: that tenant's grants decide, the tenant sent in genauth.tenantHeader", async () => {
      const { code, stdout } = await runCli(args, { ...tenantEnv(), GENAUTH_TENANT_ID: 'acme' });
      expect(code).toBe(0);
      expect(stdout).toMatch(/^ALLOWED/m);
      expect(emulator().calls.find((call) => call.path === RESOURCES)).toMatchObject({ tenant: 'acme' });
      // Another header GenAuth reads (here: one of the emulator's) carries it just the same.
      emulator().resetCalls();
      expect((await runCli(args, { ...tenantEnv(), GENAUTH_TENANT_ID: 'acme', GENAUTH_TENANT_HEADER: 'x-genauth-tenant-id' })).code).toBe(0);
      expect(emulator().calls.find((call) => call.path === RESOURCES)).toMatchObject({ tenant: 'acme' });
    });

    it('a user GenAuth answers apiCode 2120008 (disabled or not a member of the tenant): exit 1 naming genauth.tenantId and genauth.tenantHeader, not "refused the call", no upstream text', async () => {
      const { code, stdout, stderr } = await runCli(args, { ...tenantEnv(), GENAUTH_TENANT_ID: 'no-such-tenant' });
      expect(emulator().calls.find((call) => call.path === RESOURCES)).toMatchObject({ tenant: 'no-such-tenant', apiCode: 2120008 });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      const last = stderr.trim().split('\n').at(-1) ?? '';
      expect(last).toContain("loading dave's grants: ");
      expect(last).toContain('disabled or not a member of this tenant) for this user');
      expect(last).toContain('genauth.tenantId');
      expect(last).toContain('genauth.tenantHeader');
      expect(last).not.toContain('refused the call');
      expect(stderr).not.toContain('could not be reached');
      expect(stderr).not.toContain('租户');
    });

    it('apiCode 2120008 under a statusCode 5xx (GenAuth documents none for it) is still that answer: exit 1, not "could not be reached"', async () => {
      emulator().fault({ kind: 'body-error', statusCode: 503, apiCode: 2120008, message: 'upstream-detail-77c2', path: RESOURCES });
      const { code, stderr } = await runCli(args, { ...tenantEnv(), GENAUTH_TENANT_ID: 'acme' });
      expect(code).toBe(1);
      expect(stderr).toContain('genauth.tenantHeader');
      expect(stderr).not.toContain('could not be reached');
      expect(stderr).not.toContain('upstream-detail-77c2');
    });
  });

  it.each([403, 503])('no tenant, a user GenAuth answers apiCode 2120008 under statusCode %i (disabled): exit 1 saying so, no tenant option, not "could not be reached"', async (statusCode) => {
    emulator().fault({ kind: 'body-error', statusCode, apiCode: 2120008, message: 'upstream-detail-77c2', path: RESOURCES });
    const { code, stdout, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const last = stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toContain("loading alice's grants: GenAuth answered apiCode 2120008 (user disabled or not a member of this tenant) for this user");
    expect(last).toContain('enabled');
    for (const word of ['genauth.tenant', 'could not be reached', 'refused the call', 'upstream-detail-77c2']) expect(stderr).not.toContain(word);
  });

  it('nothing listening: exit 3', async () => {
    const { code, stderr } = await runCli(['explain', '--emulator', 'http://127.0.0.1:9', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read']);
    expect(code).toBe(3);
    expect(stderr).toContain('could not be reached (network');
  });

  it.each([
    [[], 'set GENAUTH_USER_POOL_ID'],
    [['--method', 'GET'], 'needs both --method and --path'],
    [['--method', 'GET', '--path', '/x', '--resource', 'r'], 'not both'],
    [['--resource-type', 'DISK'], '--resource-type must be one of'],
  ])('usage mistakes are exit 2: %j', async (extra, message) => {
    const base = extra[0] === '--method' ? ['explain', '--user', 'alice'] : ['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'];
    const { code, stdout, stderr } = await runCli([...base, ...extra]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  it('a bad variable value is exit 2 with the option named', async () => {
    const { code, stderr } = await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'], { ...tenantEnv(), GENAUTH_HOST: 'ftp://example.com' });
    expect(code).toBe(2);
    expect(stderr).toContain('option "genauth.host"');
  });
});
