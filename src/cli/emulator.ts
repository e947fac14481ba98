/**
 * `genauth-guard emulator --seed tenant.json`: the GenAuth emulator of `genauth-guard/testing` for
 * local development, seeded from a file, until SIGINT or SIGTERM. Prints the URL, the environment that
 * points an app at it (the names of docs/cli.md) and a token per seeded user.
 */
import { readFile } from 'node:fs/promises';
import { startEmulator } from '../testing/emulator.js';
import type { GenAuthEmulator } from '../testing/types.js';
import { stringFlag } from './args.js';
import type { Command } from './command.js';
import { ENV } from './env.js';
import { CommandError, EXIT, UsageError } from './exit-codes.js';
import { printable, toJson, type Io } from './io.js';
import { applySeed, checkSeed, SeedError, seedUserIds, type Seed } from './seed.js';

/**
 * Where JSON.parse stopped, as ` (line L, column C)`, when its message gives a position; else ''.
 * Never its message: V8 quotes the text around the mistake, and a file given by mistake (a secret, a
 * .env) would have part of it printed.
 */
function whereNotJson(text: string, error: unknown): string {
  const position = error instanceof SyntaxError ? /\bposition (\d+)/.exec(error.message)?.[1] : undefined;
  if (position === undefined) return '';
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

async function readSeed(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`${path}: cannot read the seed file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CommandError(`${path}: not JSON${whereNotJson(text, error)}`, EXIT.FAILED);
  }
  try {
    return checkSeed(parsed);
  } catch (error) {
    if (error instanceof SeedError) throw new CommandError(`${path}: ${error.message}`, EXIT.FAILED);
    throw error;
  }
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new UsageError('--port must be an integer from 0 to 65535');
  return port;
}

/** The environment lines of the one list, pointing at the emulator. */
export function emulatorEnv(emulator: GenAuthEmulator): Record<string, string> {
  return {
    [ENV.host]: emulator.url,
    [ENV.userPoolId]: emulator.userPoolId,
    [ENV.accessKeyId]: emulator.accessKeyId,
    [ENV.accessKeySecret]: emulator.accessKeySecret,
    [ENV.namespace]: 'default',
    [ENV.issuer]: emulator.issuer,
    [ENV.audience]: emulator.audience,
    [ENV.jwksUri]: emulator.jwksUri,
  };
}

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'Runs the GenAuth emulator for local development, seeded from a file, until Ctrl+C.',
  usage: 'genauth-guard emulator [--seed tenant.json] [--port N] [--json]',
  flags: {
    seed: { type: 'string', help: '--seed FILE          the tenant: users, grants, roles, resources (below)' },
    port: { type: 'string', help: '--port N             port on 127.0.0.1 (default: a free one)' },
    json: { type: 'boolean', help: '--json               print { url, env, tokens } as one JSON line once listening' },
  },
  positionals: { min: 0, max: 0 },
  details: [
    'Prints the URL, the GENAUTH_* lines that point an app at the emulator, and an RS256 access token (one',
    'hour) per seeded user; then serves until SIGINT or SIGTERM and closes cleanly. The secrets printed are',
    "the emulator's own, never a real tenant's.",
    '',
    'Exit codes: 0 stopped by a signal, 1 bad seed file (its JSON path is named) or port in use, 2 usage error.',
    '',
    'A seed file to start from (alice may ecs:Start on ecs:1, bob nothing; without --seed there are no users,',
    'so no tokens):',
    '  { "users": [{ "id": "alice", "grants": [{ "resourceCode": "ecs:1", "actions": ["ecs:Start"] }] }, { "id": "bob" }] }',
    'Every field, and its JSON Schema (docs/seed.schema.json): docs/cli.md in https://github.com/genauth-guard/genauth-guard',
    '',
    'Example: genauth-guard emulator --seed tenant.json --port 4000',
  ].join('\n'),
  async run(values, _positionals, io: Io) {
    const port = parsePort(stringFlag(values, 'port'));
    const seedPath = stringFlag(values, 'seed');
    const seed: Seed = seedPath === undefined ? {} : await readSeed(seedPath);
    let emulator: GenAuthEmulator;
    try {
      emulator = await startEmulator({ ...seed.emulator, port });
    } catch (error) {
      if (error instanceof TypeError) throw new CommandError(`${seedPath ?? 'emulator'}: ${error.message}`, EXIT.FAILED);
      const code = (error as { code?: unknown }).code;
      throw new CommandError(`cannot listen on 127.0.0.1:${port}${typeof code === 'string' ? ` (${code})` : ''}`, EXIT.FAILED);
    }
    // Listen for the signals at once: a supervisor may stop us right after the first line.
    const stop = new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    try {
      applySeed(emulator, seed);
    } catch (error) {
      await emulator.close();
      if (error instanceof SeedError) throw new CommandError(`${seedPath}: ${error.message}`, EXIT.FAILED);
      throw error;
    }
    const users = seedUserIds(seed);
    const tokens: Record<string, string> = {};
    for (const user of users) tokens[user] = await emulator.mintToken(user);
    const env = emulatorEnv(emulator);
    if (values.json === true) {
      io.out(toJson({ url: emulator.url, env, tokens }, 0));
    } else {
      io.out(`GenAuth emulator listening on ${emulator.url}`);
      io.out('');
      io.out('# Point an app at it (a .env file, or `export` each line):');
      for (const [name, value] of Object.entries(env)) io.out(`${name}=${value}`);
      if (users.length > 0) {
        io.out('');
        io.out('# Access tokens (RS256, valid one hour): Authorization: Bearer <token>');
        for (const user of users) io.out(`${printable(user)} ${tokens[user]}`);
      }
    }
    io.progress('serving; press Ctrl+C to stop');
    const signal = await stop;
    io.progress(`${signal}: closing the emulator`);
    await emulator.close();
    return EXIT.OK;
  },
};
