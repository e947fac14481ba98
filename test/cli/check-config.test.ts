import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { runCli } from './run.js';
import { emulatorEnv } from '../../src/cli/emulator.js';

// `genauth-guard check-config <module>` against the emulator over loopback, as a child process.
const emulator = useEmulator();
const fixture = (name: string) => `test/cli/fixtures/${name}`;
const JWKS = '/oidc/.well-known/jwks.json';

/** The one list of variable names, pointing at the emulator. */
function tenantEnv(): Record<string, string> {
  return emulatorEnv(emulator());
}

interface Report {
  valid: boolean;
  error?: string;
  ready?: boolean;
  problems?: Array<{ kind: string; option: string; cause: string; transient: boolean; status?: number }>;
}
const TOKEN = '/api/v3/get-management-token';

beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
  emulator().setJwksAvailable(true);
});

describe('genauth-guard check-config', () => {
  it('valid options, GenAuth and the JWKS answer (guard.ready()): exit 0', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs')], tenantEnv());
    expect(code).toBe(0);
    expect(stdout).toBe('options: valid\nready: yes\n');
    expect(stderr).toContain('calling guard.ready()');
    expect(emulator().callCount(TOKEN)).toBe(1);
    expect(emulator().callCount(JWKS)).toBe(1);
  });

  it('CommonJS, the named export, discovery and the signature scheme (one signed call); --json', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-discovery.cjs'), '--json'], tenantEnv());
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true, ready: true, problems: [] });
    expect(emulator().callCount(JWKS)).toBe(1);
    expect(emulator().callCount(TOKEN)).toBe(0);
    expect(emulator().calls.find((call) => call.path === RESOURCES)?.auth).toBe('signature');
  });

  it('the signature scheme with a wrong secret: the signed call is refused, exit 1', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-discovery.cjs'), '--json'], { ...tenantEnv(), GENAUTH_ACCESS_KEY_SECRET: 'wrong-secret-1234' });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret', transient: false })]);
    expect(stdout).not.toContain('wrong-secret-1234');
  });

  it('invalid options: exit 1 with the resolver\'s message naming the option; nothing contacted', async () => {
    const text = await runCli(['check-config', fixture('options-misspelt.mjs')], tenantEnv());
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('options: INVALID: genauth-guard: option "jwt.audiance" is not an option; did you mean "jwt.audience"?');
    const json = await runCli(['check-config', fixture('options-misspelt.mjs'), '--json'], tenantEnv());
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.valid).toBe(false);
    expect(report.error).toContain('"jwt.audiance"');
    expect(report.ready).toBeUndefined();
    expect(report.problems).toBeUndefined();
    expect(emulator().callCount()).toBe(0);
  });

  it('a missing variable is caught by the resolver: exit 1', async () => {
    const env = tenantEnv();
    delete (env as Record<string, string | undefined>).GENAUTH_ACCESS_KEY_SECRET;
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], env);
    expect(code).toBe(1);
    expect(stdout).toContain('option "genauth.accessKeySecret"');
  });

  it('GENAUTH_NAMESPACE unset: the module says "default" itself, so the options are valid and ready', async () => {
    const env = tenantEnv();
    delete (env as Record<string, string | undefined>).GENAUTH_NAMESPACE;
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], env);
    expect(code).toBe(0);
    expect(stdout).toContain('options: valid');
  });

  it('refused credentials: exit 1, the secret never printed', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], { ...tenantEnv(), GENAUTH_ACCESS_KEY_SECRET: 'wrong-secret-1234' });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.ready).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret', transient: false })]);
    expect(stdout + stderr).not.toContain('wrong-secret-1234');
  });

  it('a genauth.userPoolId other than the pool the management token is scoped to: pool_mismatch, exit 1, no secret, pool or token printed', async () => {
    const env = { ...tenantEnv(), GENAUTH_USER_POOL_ID: '65a1b2c3d4e5f60718293aff' };
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], env);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.ready).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'pool_mismatch', option: 'genauth.userPoolId', transient: false })]);
    for (const word of [env.GENAUTH_USER_POOL_ID, emulator().userPoolId, emulator().accessKeySecret, 'eyJ']) expect(stdout + stderr).not.toContain(word);
    const text = await runCli(['check-config', fixture('options-env.mjs')], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^ready: no\nproblem \(genauth\.userPoolId\): /m);
  });

  describe('genauth.tenantId (the emulator\'s tenants)', () => {
    const PROBE_USER = 'genauth-guard-check-config-probe';
    beforeEach(() => {
      emulator().clearGrants();
      emulator().addUser('warmed-7', { tenant: 't1' });
    });

    it('a warm.users member of the tenant: ready, exit 0', async () => {
      const { code, stdout } = await runCli(['check-config', fixture('options-tenant.mjs')], { ...tenantEnv(), GENAUTH_TENANT_ID: 't1', WARM_USER: 'warmed-7' });
      expect(stdout).toBe('options: valid\nready: yes\n');
      expect(code).toBe(0);
    });

    it('a tenant the warm.users user is not a member of (apiCode 2120008): "check genauth.tenantId / tenantHeader", exit 1, no user id or upstream text', async () => {
      const env = { ...tenantEnv(), GENAUTH_TENANT_ID: 'no-such-tenant', WARM_USER: 'warmed-7' };
      const text = await runCli(['check-config', fixture('options-tenant.mjs')], env);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^ready: no\nproblem \(genauth\.tenantId\): .*genauth\.tenantId.*genauth\.tenantHeader/m);
      const json = await runCli(['check-config', fixture('options-tenant.mjs'), '--json'], env);
      expect(json.code).toBe(1);
      expect((JSON.parse(json.stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'tenant', option: 'genauth.tenantId', transient: false })]);
      for (const word of ['warmed-7', '租户', 'eyJ']) expect(text.stdout + text.stderr + json.stdout).not.toContain(word);
    });

    it('the signature scheme\'s made-up probe user answered apiCode 2120008: not taken as the credentials accepted (GenAuth does not document that it checks the signature first): ready no, exit 1, naming warm.users', async () => {
      // A probe user GenAuth knows outside the tenant: an answer about that user, which says nothing
      // documented of the signature.
      emulator().addUser(PROBE_USER);
      const env = { ...tenantEnv(), GENAUTH_TENANT_ID: 't1', AUTH_SCHEME: 'signature' };
      const json = await runCli(['check-config', fixture('options-tenant.mjs'), '--json'], env);
      expect(emulator().calls.find((call) => call.path === RESOURCES)).toMatchObject({ auth: 'signature', tenant: 't1', apiCode: 2120008 });
      const report = JSON.parse(json.stdout) as Report;
      expect(report).toMatchObject({ valid: true, ready: false });
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'credentials_unverified', option: 'warm.users', transient: false })]);
      expect(json.code).toBe(1);
      const text = await runCli(['check-config', fixture('options-tenant.mjs')], env);
      const line = text.stdout.split('\n').find((l) => l.startsWith('problem (warm.users): ')) ?? '';
      expect(line).toContain('apiCode 2120008 (user disabled or not a member of this tenant)');
      expect(line).toContain('GenAuth does not document whether it checks the signature before it looks up the user');
      expect(line).toContain('does not show that GenAuth accepted the credentials');
      expect(line).toContain('list a member of the tenant (genauth.tenantId) in warm.users');
      expect(line).not.toMatch(/credentials (were |are )?(accepted|taken)\b/);
      expect(text.code).toBe(1);
      for (const word of [PROBE_USER, '租户']) expect(text.stdout + json.stdout).not.toContain(word);
    });

    it('the signature scheme with a warm.users member: its signed load checked the credentials, so no made-up probe user; ready, exit 0', async () => {
      emulator().addUser(PROBE_USER);
      const { code, stdout } = await runCli(['check-config', fixture('options-tenant.mjs'), '--json'], { ...tenantEnv(), GENAUTH_TENANT_ID: 't1', AUTH_SCHEME: 'signature', WARM_USER: 'warmed-7' });
      expect(emulator().calls.filter((call) => call.path === RESOURCES).map((call) => [call.userId, call.auth, call.apiCode])).toEqual([['warmed-7', 'signature', undefined]]);
      expect(JSON.parse(stdout)).toEqual({ valid: true, ready: true, problems: [] });
      expect(code).toBe(0);
    });
  });

  it('the JWKS down (503): exit 3', async () => {
    emulator().setJwksAvailable(false);
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], tenantEnv());
    expect(code).toBe(3);
    expect(stdout).toMatch(/^ready: no\nproblem \(jwt\.jwksUri\): /m);
    expect(stdout).not.toContain('genauth.');
  });

  it('GenAuth down (503 on every call): exit 3, no upstream text', async () => {
    emulator().fault({ kind: 'status', status: 503, path: TOKEN });
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], tenantEnv());
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as Report;
    expect(report.problems).toEqual([expect.objectContaining({ option: 'genauth.host', transient: true })]);
    expect(stdout).not.toContain('emulated');
  });

  it('nothing listening at GENAUTH_HOST: exit 3', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], { ...tenantEnv(), GENAUTH_HOST: 'http://127.0.0.1:9' });
    expect(code).toBe(3);
    expect((JSON.parse(stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'unreachable', option: 'genauth.host', transient: true })]);
  });

  it('a JWKS URL that is not found (404) is a configuration mistake: exit 1', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], { ...tenantEnv(), GENAUTH_JWKS_URI: `${emulator().url}/oidc/keys` });
    expect(code).toBe(1);
    expect(stdout).toContain('problem (jwt.jwksUri): ');
  });

  const DISCOVERY = '/oidc/.well-known/openid-configuration';
  const TOO_LARGE = JSON.stringify({ keys: [], padding: 'x'.repeat(1024 * 1024 + 1) });

  // Each key-source problem is classified by its kind (and, for a status, the status it carries),
  // never by the words of its cause: an outage (unreachable, timeout, 5xx, 429) is exit 3; a key
  // source that answers what is not a usable key set (a 404, not JSON, not a key set, too large, not a
  // discovery document) is a mistake to fix, exit 1.
  it.each([
    ['the JWKS answers more than jwt.jwks.maxResponseBytes', 'options-env.mjs', JWKS, TOO_LARGE, 200, 'key_source_too_large', 'jwt.jwksUri', 1],
    ['the discovery document answers more than jwt.jwks.maxResponseBytes', 'options-discovery.cjs', DISCOVERY, TOO_LARGE, 200, 'key_source_too_large', 'jwt.issuer', 1],
    ['the JWKS answers JSON that is no key set', 'options-env.mjs', JWKS, '{"keys":5}', 200, 'key_source_invalid', 'jwt.jwksUri', 1],
    ['the discovery document is null', 'options-discovery.cjs', DISCOVERY, 'null', 200, 'key_source_invalid', 'jwt.issuer', 1],
    ['the JWKS answers a web page', 'options-env.mjs', JWKS, '<html></html>', 200, 'key_source_not_json', 'jwt.jwksUri', 1],
    ['the discovery document answers 404', 'options-discovery.cjs', DISCOVERY, '{}', 404, 'key_source_status', 'jwt.issuer', 1],
    ['the discovery document answers 503', 'options-discovery.cjs', DISCOVERY, '{}', 503, 'key_source_status', 'jwt.issuer', 3],
    ['the discovery document answers 429', 'options-discovery.cjs', DISCOVERY, '{}', 429, 'key_source_status', 'jwt.issuer', 3],
  ] as const)('%s', async (_what, file, path, body, status, kind, option, exitCode) => {
    emulator().fault({ kind: 'respond', status, body, path });
    const { code, stdout } = await runCli(['check-config', fixture(file), '--json'], tenantEnv());
    expect((JSON.parse(stdout) as Report).problems).toEqual([expect.objectContaining({ kind, option, transient: exitCode === 3 })]);
    expect(code).toBe(exitCode);
  });

  it('the JWKS unreachable: unreachable, exit 3', async () => {
    // A port nothing listens on (not 9, which fetch refuses outright as a "bad port").
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], { ...tenantEnv(), GENAUTH_JWKS_URI: `http://127.0.0.1:${port}/jwks` });
    expect((JSON.parse(stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'unreachable', option: 'jwt.jwksUri', transient: true })]);
    expect(code).toBe(3);
  });

  // A problem carries the status it is about, and check-config reads that, not its cause's words.
  it.each([
    ['GenAuth answers HTTP 503 to the management token', { kind: 'status', status: 503, path: TOKEN }, 503, 3],
    ['GenAuth answers HTTP 429 to the management token', { kind: 'status', status: 429, path: TOKEN }, 429, 3],
    ['GenAuth answers statusCode 500 in its envelope', { kind: 'body-error', statusCode: 500, path: TOKEN }, 500, 3],
    ['GenAuth refuses the token request as a bad request (statusCode 400)', { kind: 'body-error', statusCode: 400, path: TOKEN }, 400, 1],
    ['genauth.host answers HTTP 404 for the API', { kind: 'status', status: 404, path: TOKEN }, 404, 1],
    ['genauth.host answers a page that is not the API', { kind: 'respond', status: 200, body: '{"hello":"world"}', path: TOKEN }, 200, 1],
    // An answer came, so it has a status: only a problem without one (no answer) is an outage.
    ['GenAuth answers an envelope whose token is no string', { kind: 'respond', status: 200, body: '{"statusCode":200,"data":{"access_token":5}}', path: TOKEN }, 200, 1],
  ] as const)('%s: upstream with its status', async (_what, fault, status, exitCode) => {
    emulator().fault(fault);
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], tenantEnv());
    expect((JSON.parse(stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'upstream', option: 'genauth.host', status, transient: exitCode === 3 })]);
    expect(code).toBe(exitCode);
  });

  it('the signature scheme: an envelope without its grants list is a host to check (status 200), exit 1', async () => {
    emulator().fault({ kind: 'respond', status: 200, body: '{"statusCode":200,"data":{"portal":true}}', path: RESOURCES });
    const { code, stdout } = await runCli(['check-config', fixture('options-discovery.cjs'), '--json'], tenantEnv());
    expect((JSON.parse(stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'upstream', option: 'genauth.host', status: 200, transient: false })]);
    expect(code).toBe(1);
  });

  // A 2xx past genauth.maxResponseBytes is a limit a retry meets again: the option named, exit 1. A
  // 5xx with a long page is still an outage.
  const PAST_LIMIT = `{"statusCode":200,"data":{"list":[],"pad":"${'x'.repeat(65536)}"}}`;
  it.each([
    ['the warm-up grants answer (HTTP 200)', RESOURCES, 200, 'too_large', 'genauth.maxResponseBytes', 1],
    ['the management token answer (HTTP 200)', TOKEN, 200, 'too_large', 'genauth.maxResponseBytes', 1],
    ['a 503 page', RESOURCES, 503, 'upstream', 'genauth.host', 3],
  ] as const)('GenAuth answers more than genauth.maxResponseBytes: %s', async (_what, path, status, kind, option, exitCode) => {
    emulator().fault({ kind: 'respond', status, body: PAST_LIMIT, path });
    const { code, stdout } = await runCli(['check-config', fixture('options-warm.mjs'), '--json'], tenantEnv());
    const problems = (JSON.parse(stdout) as Report).problems;
    expect(problems).toEqual([expect.objectContaining({ kind, option, transient: exitCode === 3 })]);
    if (exitCode === 1) expect(problems?.[0]?.cause).toContain('genauth.maxResponseBytes');
    expect(stdout).not.toContain('xxxx');
    expect(code).toBe(exitCode);
  });

  it.each([403, 503])('no genauth.tenantId, a warm.users user answered apiCode 2120008 under statusCode %i (disabled): "problem (warm.users)", exit 1, not genauth.host', async (statusCode) => {
    emulator().fault({ kind: 'body-error', statusCode, apiCode: 2120008, path: RESOURCES });
    // The user is in the warm-up list, and GenAuth says it is disabled: the fix is the user or the list.
    const text = await runCli(['check-config', fixture('options-warm.mjs')], tenantEnv());
    expect(text.stdout).toMatch(/^ready: no\nproblem \(warm\.users\): GenAuth answered apiCode 2120008 \(user disabled or not a member of this tenant\) for a warm\.users user/m);
    expect(text.code).toBe(1);
    const json = await runCli(['check-config', fixture('options-warm.mjs'), '--json'], tenantEnv());
    expect((JSON.parse(json.stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'user_refused', option: 'warm.users', transient: false })]);
    expect(json.code).toBe(1);
    for (const word of ['genauth.host', 'genauth.tenantId', 'genauth.tenantHeader', '租户']) expect(text.stdout + json.stdout).not.toContain(word);
  });

  it('a warm.users user answered a partial list (fewer grants than its totalCount): partial_list, a problem to fix, exit 1', async () => {
    // An answer (an HTTP 200 envelope), not an outage: the call has no paging, so a retry likely meets it again.
    emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, data: { totalCount: 3, list: [] } }, path: RESOURCES });
    const json = await runCli(['check-config', fixture('options-warm.mjs'), '--json'], tenantEnv());
    expect((JSON.parse(json.stdout) as Report).problems).toEqual([expect.objectContaining({ kind: 'partial_list', option: 'genauth.acceptPartialLists', transient: false })]);
    expect(json.code).toBe(1);
    const text = await runCli(['check-config', fixture('options-warm.mjs')], tenantEnv());
    expect(text.stdout).toMatch(/^problem \(genauth\.acceptPartialLists\): .*partial list/m);
    expect(text.stdout).not.toContain('could not be reached');
    expect(text.code).toBe(1);
  });

  it('--offline: validates only, nothing contacted', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--offline', '--json'], tenantEnv());
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
    expect(stdout).not.toContain('ready');
    expect(emulator().callCount()).toBe(0);
  });

  it('TypeScript\'s CommonJS output of `export default options` (exports.default) is read as the default export', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-ts-default.cjs'), '--offline', '--json']);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
    expect(code).toBe(0);
  });

  it.each([
    ['no-such-options.js', 2, 'no such file'],
    ['no-export.mjs', 2, 'exports no options: export it as default or as "options"'],
    ['no-export.cjs', 2, 'exports no options: export it as default or as "options"'],
    ['throws.mjs', 1, 'could not be loaded'],
  ])('%s: exit %i', async (file, exitCode, message) => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture(file)]);
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  // A careless `check-config .env`: Node runs it as CommonJS, and the engine's error quotes the file.
  it.each([
    ['.env', 'GENAUTH_ACCESS_KEY_SECRET=s3cr3tvalue9f8a7b\n', 'ReferenceError (line 1)'],
    ['.env', 'GENAUTH_NAMESPACE=prod\nGENAUTH_ACCESS_KEY_SECRET=s3cr3t value9f8a7b\n', 'SyntaxError (line 2)'],
    ['secret.json', 's3cr3tvalue9f8a7b\n', 'SyntaxError'],
  ])('a file of secrets given by mistake (%s) is exit 1, naming the error and line, never the text', async (name, text, message) => {
    const file = join(mkdtempSync(join(tmpdir(), 'genauth-check-')), name);
    writeFileSync(file, text);
    const { code, stdout, stderr } = await runCli(['check-config', file, '--offline']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`could not be loaded: ${message}`);
    expect(stderr).not.toMatch(/s3cr3t|value9f8a7b/);
  });
});
