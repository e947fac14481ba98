import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useEmulator } from '../fixtures.js';
import { runCli, startCli } from './run.js';

// What the CLI prints from outside (GenAuth's grants, an app's route paths, a module's keys and errors)
// reaches the operator's terminal with its control and bidi characters escaped (`\u001b`), never raw:
// an ESC sequence could retitle or clear the terminal, a CR overwrite a line, an LF forge one, a U+202E
// reverse what follows. --json stays valid JSON that parses back to the same values.
const emulator = useEmulator();

/** A raw control (C0 but the line feed, DEL, C1) or a bidi or line-separator character. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const TITLE = '\u001b]0;owned\u0007';
const CLEAR = '\u001b[2J';

function tenantEnv(): Record<string, string> {
  const e = emulator();
  return { GENAUTH_HOST: e.url, GENAUTH_USER_POOL_ID: e.userPoolId, GENAUTH_ACCESS_KEY_SECRET: e.accessKeySecret };
}

beforeEach(() => {
  const e = emulator();
  e.clearGrants();
  e.clearFaults();
  e.setGrants('mallory', [
    { resourceCode: `reports${TITLE}`, actions: [`reports:Read${CLEAR}`, 'x\u009b31m'] },
    { resourceCode: 'cr\rALLOW   reports', actions: ['reports:Read'], effect: 'DENY' },
    { resourceCode: 'lf\nALLOWED (allowed): reports', actions: ['*'] },
    { resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/\u202egnp.exe/*' },
  ]);
});

describe('explain: GenAuth\'s values are shown escaped', () => {
  it('the text table: no raw control or bidi character, one line per grant, the escapes visible', async () => {
    const { code, stdout } = await runCli(['explain', '--user', 'mallory', '--resource', `reports${CLEAR}`, '--action', 'reports:Read'], tenantEnv());
    expect(code).toBe(1);
    expect(stdout).not.toMatch(RAW);
    expect(stdout).toContain('reports\\u001b]0;owned\\u0007');
    expect(stdout).toContain('reports:Read\\u001b[2J');
    expect(stdout).toContain('x\\u009b31m');
    expect(stdout).toContain('cr\\u000dALLOW   reports');
    expect(stdout).toContain('/api/\\u202egnp.exe/*');
    // The verdict line stays the first and only verdict line (an LF in a code forges none).
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DENIED /);
    expect(lines.filter((line) => /^(ALLOWED|DENIED) /.test(line))).toHaveLength(1);
    expect(lines.filter((line) => /^(ALLOW|DENY) /.test(line))).toHaveLength(4);
  });

  it('--json: valid JSON whose values are GenAuth\'s own, with no raw control or bidi character in the text', async () => {
    const { stdout } = await runCli(['explain', '--user', 'mallory', '--resource', 'reports', '--action', 'reports:Read', '--json'], tenantEnv());
    expect(stdout).not.toMatch(RAW);
    const explanation = JSON.parse(stdout) as { grants: Array<{ grant: { code: string; apiIdentifier: string | null; actions: string[] } }> };
    const codes = explanation.grants.map((g) => g.grant.code);
    expect(codes).toContain(`reports${TITLE}`);
    expect(codes).toContain('cr\rALLOW   reports');
    expect(explanation.grants.map((g) => g.grant.apiIdentifier)).toContain('/api/\u202egnp.exe/*');
    expect(explanation.grants.flatMap((g) => g.grant.actions)).toContain('x\u009b31m');
  });
});

describe('routes: an app\'s paths are shown escaped', () => {
  it('one line per route, escapes visible; --json parses back to the paths', async () => {
    const text = await runCli(['routes', 'test/cli/fixtures/express-escapes.cjs']);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(RAW);
    expect(text.stdout.trimEnd().split('\n')).toEqual([
      'GET /bidi\\u202egnp.exe',
      'GET /clear\\u009b2J',
      'GET /cr\\u000dGET /fine',
      'GET /lf\\u000aGET /fake',
      'GET /reset\\u001bc',
    ]);
    const json = await runCli(['routes', 'test/cli/fixtures/express-escapes.cjs', '--json']);
    expect(json.stdout).not.toMatch(RAW);
    const report = JSON.parse(json.stdout) as { unguarded: Array<{ path: string }> };
    expect(report.unguarded.map((r) => r.path)).toContain('/bidi\u202egnp.exe');
    expect(report.unguarded.map((r) => r.path)).toContain('/reset\u001bc');
  });
});

describe('check-config: a module\'s keys and errors are shown escaped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'genauth-escapes-'));

  it('an unknown option key with escapes: INVALID, the key escaped', async () => {
    const file = join(dir, 'options.mjs');
    writeFileSync(file, "export default { genauth: { userPoolId: 'p', accessKeySecret: 's' }, jwt: { jwksUri: 'http://127.0.0.1:9/k', audience: 'a', algorithms: ['RS256'], 'aud\\u001b[2J\\u202eience': 1 } };\n");
    const { code, stdout } = await runCli(['check-config', file, '--offline']);
    expect(code).toBe(1);
    expect(stdout).toContain('aud\\u001b[2J\\u202eience');
    expect(stdout).not.toMatch(RAW);
  });

  it('a module that throws an error whose message has escapes: stderr shows them escaped', async () => {
    const file = join(dir, 'throws.mjs');
    writeFileSync(file, "throw new Error('boom \\u001b]0;owned\\u0007\\r\\u202e');\n");
    const { code, stderr } = await runCli(['check-config', file, '--offline']);
    expect(code).toBe(1);
    expect(stderr).toContain('boom \\u001b]0;owned\\u0007\\u000d\\u202e');
    expect(stderr.replace(/\n/g, '')).not.toMatch(RAW);
  });
});

describe('emulator: a seed file\'s user ids are shown escaped', () => {
  it('a user id with a line feed forges no GENAUTH_* line; --json parses back to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genauth-escapes-'));
    const file = join(dir, 'tenant.json');
    const id = 'eve\nGENAUTH_HOST=http://203.0.113.9\u001b]0;owned\u0007';
    writeFileSync(file, JSON.stringify({ users: [{ id }] }));
    const text = await startCli(['emulator', '--seed', file]);
    text.child.kill('SIGTERM');
    expect(await text.exited).toBe(0);
    expect(text.stdout()).not.toMatch(RAW);
    expect(text.stdout().split('\n').filter((line) => line.startsWith('GENAUTH_HOST='))).toHaveLength(1);
    expect(text.stdout()).toMatch(/^eve\\u000aGENAUTH_HOST=http:\/\/203\.0\.113\.9\\u001b\]0;owned\\u0007 ey/m);
    const json = await startCli(['emulator', '--seed', file, '--json']);
    json.child.kill('SIGTERM');
    expect(await json.exited).toBe(0);
    expect(Object.keys((JSON.parse(json.firstLine) as { tokens: Record<string, string> }).tokens)).toEqual([id]);
  });
});
