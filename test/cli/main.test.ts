import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './run.js';

const COMMANDS = ['explain', 'emulator', 'routes', 'check-config'];

describe('genauth-guard (the command line)', () => {
  it('is the package\'s bin: dist/cli.js, an ES module that starts with a hashbang', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'genauth-guard': './dist/cli.js' });
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--help lists every command on stdout, exit 0', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const name of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(stderr).toBe('');
  });

  it('no command is a usage error: exit 2, the overview on stderr, nothing on stdout', async () => {
    const { code, stdout, stderr } = await runCli([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: genauth-guard <command>');
  });

  it('an unknown command is exit 2 with the closest one named', async () => {
    const { code, stdout, stderr } = await runCli(['explian']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('did you mean "explain"?');
  });

  it.each(COMMANDS)('%s --help prints its usage and flags on stdout, exit 0', async (name) => {
    const { code, stdout, stderr } = await runCli([name, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: genauth-guard ${name}`);
    expect(stdout).toContain('--help');
    expect(stdout).toContain('Exit codes:');
    expect(stderr).toBe('');
  });

  // The package ships dist/ and README.md, not docs/ or examples/: a help line that names one of their
  // files names the repository it is in, and the emulator's help shows a seed file to start from.
  const REPOSITORY = 'https://github.com/genauth-guard/genauth-guard';
  it.each([[['--help']], ...COMMANDS.map((name) => [[name, '--help']])])('%j names no file the installed package lacks without the repository', async (args) => {
    const { stdout } = await runCli(args);
    const bare = stdout.split('\n').filter((line) => /\b(docs|examples)\/\S/.test(line) && !line.includes(REPOSITORY));
    expect(bare).toEqual([]);
  });

  it('emulator --help shows a seed file to start from, not only a path of the repository', async () => {
    const { stdout } = await runCli(['emulator', '--help']);
    expect(stdout).toContain('{ "users": [{ "id": "alice", "grants": [{ "resourceCode": "ecs:1", "actions": ["ecs:Start"] }] }, { "id": "bob" }] }');
  });

  it.each([
    [['explain', '--usr', 'alice'], 'did you mean --user?'],
    [['routes', 'app.js', '--jsn'], 'did you mean --json?'],
    [['check-config', 'options.js', '--ofline'], 'did you mean --offline?'],
    [['emulator', '--sed', 'tenant.json'], 'did you mean --seed?'],
  ])('an unknown flag is exit 2 with a hint: %j', async (args, hint) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(hint);
    expect(stderr).toContain(`Usage: genauth-guard ${args[0]}`);
  });

  it.each([
    [['routes'], 'needs the app module'],
    [['check-config'], 'needs the options module'],
    [['routes', 'a.js', 'b.js'], 'unexpected "b.js"'],
    [['explain', '--user'], "argument missing"],
    [['emulator', '--port', 'eighty'], '--port must be an integer'],
  ])('a missing or extra argument is exit 2: %j', async (args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });
});
