#!/usr/bin/env node
/**
 * `genauth-guard`, the command line (`npx genauth-guard <command>`): explain a decision, run the
 * emulator for local development, list unguarded routes, check an options module. docs/cli.md.
 */
import { helpText, parseCommandArgs } from './args.js';
import { checkConfigCommand } from './check-config.js';
import type { Command } from './command.js';
import { emulatorCommand } from './emulator.js';
import { CommandError, EXIT, UsageError, type ExitCode } from './exit-codes.js';
import { explainCommand } from './explain.js';
import { processIo, type Io } from './io.js';
import { routesCommand } from './routes.js';
import { closestKey } from '../options/suggest.js';

const COMMANDS: readonly Command[] = [explainCommand, emulatorCommand, routesCommand, checkConfigCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: genauth-guard <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    '`genauth-guard <command> --help` for its flags. Results go to stdout, progress and errors to stderr.',
    'Exit codes: 0 ok, 1 check failed (denied, unguarded routes, invalid options), 2 usage error,',
    '3 GenAuth or the JWKS unreachable. See docs/cli.md in https://github.com/genauth-guard/genauth-guard',
  ].join('\n');
}

/** Runs one command line; resolves its exit code. Never throws. */
export async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.error(`a command is needed\n${overview()}`);
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const close = closestKey(name, COMMANDS.map((c) => c.name));
    io.error(`unknown command "${name}"${close === undefined ? '' : `; did you mean "${close}"?`} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    return EXIT.USAGE;
  }
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help === true) {
      io.out(helpText(command));
      return EXIT.OK;
    }
    return await command.run(values, positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(`${error.message}\nUsage: ${command.usage}\n(genauth-guard ${command.name} --help for more)`);
      return EXIT.USAGE;
    }
    if (error instanceof CommandError) {
      io.error(error.message);
      return error.exitCode;
    }
    // A bug of ours: name it without a stack (which could hold values), and fail.
    io.error(`internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return EXIT.FAILED;
  }
}

// Commands may leave handles open (a user's app, a Redis client it made): exit once output is written.
// The emulator command keeps the process alive itself and resolves only when it stops.
void main(process.argv.slice(2), processIo).then((code) => {
  process.stdout.write('', () => process.exit(code));
});
