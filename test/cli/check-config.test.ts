import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { runCli } from './run.js';

// `genauth-guard check-config <module>` against the emulator over loopback, as a child process.
const emulator = useEmulator();
const fixture = (name: string) => `test/cli/fixtures/${name}`;
const JWKS = '/oidc/.well-known/jwks.json';

/** The one list of variable names, pointing at the emulator. */
function tenantEnv(): Record<string, string> {
  const e = emulator();
  return {
    GENAUTH_HOST: e.url,
    GENAUTH_USER_POOL_ID: e.userPoolId,
    GENAUTH_ACCESS_KEY_ID: e.accessKeyId,
    GENAUTH_ACCESS_KEY_SECRET: e.accessKeySecret,
    GENAUTH_NAMESPACE: 'default',
    GENAUTH_ISSUER: e.issuer,
    GENAUTH_AUDIENCE: e.audience,
    GENAUTH_JWKS_URI: e.jwksUri,
  };
}

interface Report {
  valid: boolean;
  error?: string;
  checks?: Array<{ name: string; ok: boolean; url?: string; error?: string; unreachable?: boolean }>;
}

beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
  emulator().setJwksAvailable(true);
});

describe('genauth-guard check-config', () => {
  it('valid options, GenAuth and the JWKS answer: exit 0', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs')], tenantEnv());
    expect(code).toBe(0);
    expect(stdout).toBe(`options: valid\ngenauth: ok (${emulator().url})\njwks: ok (${emulator().jwksUri})\n`);
    expect(stderr).toContain('fetching the keys');
    expect(emulator().callCount(RESOURCES)).toBe(1);
    expect(emulator().callCount(JWKS)).toBe(1);
  });

  it('CommonJS, the named export, discovery and the signature scheme; --json', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-discovery.cjs'), '--json'], tenantEnv());
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      valid: true,
      checks: [
        { name: 'genauth', ok: true, url: emulator().url },
        { name: 'jwks', ok: true, url: emulator().jwksUri },
      ],
    });
    expect(emulator().calls.find((call) => call.path === RESOURCES)?.auth).toBe('signature');
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
    expect(report.checks).toBeUndefined();
    expect(emulator().callCount()).toBe(0);
  });

  it('a missing variable is caught by the resolver: exit 1', async () => {
    const env = tenantEnv();
    delete (env as Record<string, string | undefined>).GENAUTH_ACCESS_KEY_SECRET;
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], env);
    expect(code).toBe(1);
    expect(stdout).toContain('option "genauth.accessKeySecret"');
  });

  it('refused credentials: exit 1, the secret never printed', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], { ...tenantEnv(), GENAUTH_ACCESS_KEY_SECRET: 'wrong-secret-1234' });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.checks?.[0]).toMatchObject({ name: 'genauth', ok: false, unreachable: false });
    expect(report.checks?.[0]?.error).toContain('refused the credentials');
    expect(report.checks?.[1]).toMatchObject({ name: 'jwks', ok: true });
    expect(stdout + stderr).not.toContain('wrong-secret-1234');
  });

  it('the JWKS down (503): exit 3', async () => {
    emulator().setJwksAvailable(false);
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], tenantEnv());
    expect(code).toBe(3);
    expect(stdout).toContain(`jwks: FAILED: HTTP 503 (${emulator().jwksUri})`);
    expect(stdout).toContain('genauth: ok');
  });

  it('GenAuth down (503 on every call): exit 3, no upstream text', async () => {
    emulator().fault({ kind: 'status', status: 503, path: RESOURCES });
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], tenantEnv());
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as Report;
    expect(report.checks?.[0]).toMatchObject({ name: 'genauth', ok: false, unreachable: true });
    expect(report.checks?.[0]?.error).toContain('http_status, HTTP 503');
    expect(stdout).not.toContain('emulated');
  });

  it('a JWKS URL that is not found (404) is a configuration mistake: exit 1', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs')], { ...tenantEnv(), GENAUTH_JWKS_URI: `${emulator().url}/oidc/keys` });
    expect(code).toBe(1);
    expect(stdout).toContain('jwks: FAILED: HTTP 404');
  });

  it('--offline: validates only, nothing contacted', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--offline', '--json'], tenantEnv());
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
    expect(emulator().callCount()).toBe(0);
  });

  it.each([
    ['no-such-options.js', 2, 'no such file'],
    ['no-export.mjs', 2, 'exports no options: export it as default or as "options"'],
    ['throws.mjs', 1, 'could not be loaded'],
  ])('%s: exit %i', async (file, exitCode, message) => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture(file)]);
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });
});
