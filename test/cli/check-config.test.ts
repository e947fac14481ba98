import { mkdtempSync, writeFileSync } from 'node:fs';
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
  problems?: Array<{ kind: string; option: string; cause: string; transient: boolean }>;
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

  it('refused credentials: exit 1, the secret never printed', async () => {
    const { code, stdout, stderr } = await runCli(['check-config', fixture('options-env.mjs'), '--json'], { ...tenantEnv(), GENAUTH_ACCESS_KEY_SECRET: 'wrong-secret-1234' });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.ready).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'credentials', option: 'genauth.accessKeySecret', transient: false })]);
    expect(stdout + stderr).not.toContain('wrong-secret-1234');
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

  it('--offline: validates only, nothing contacted', async () => {
    const { code, stdout } = await runCli(['check-config', fixture('options-env.mjs'), '--offline', '--json'], tenantEnv());
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true });
    expect(stdout).not.toContain('ready');
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
