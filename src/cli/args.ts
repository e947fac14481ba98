/** Strict flag parsing with node:util: an unknown flag or a missing value is a usage error with a hint. */
import { parseArgs } from 'node:util';
import { closestKey } from '../options/suggest.js';
import type { Command, Flag, Values } from './command.js';
import { UsageError } from './exit-codes.js';

/** Flags every command takes. */
export const COMMON_FLAGS: Readonly<Record<string, Flag>> = {
  help: { type: 'boolean', short: 'h', help: '-h, --help           this help' },
};

export interface Parsed {
  values: Values;
  positionals: string[];
}

function hintFor(message: string, command: Command): string {
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown === null) return '';
  const names = [...Object.keys(command.flags), ...Object.keys(COMMON_FLAGS)];
  const close = closestKey(unknown[2] ?? '', names);
  return close === undefined ? ` (flags of "${command.name}": ${names.map((n) => `--${n}`).join(', ')})` : `; did you mean --${close}?`;
}

/** Parses a command's arguments; throws a {@link UsageError} naming the flag on any mistake. */
export function parseCommandArgs(command: Command, args: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, flag] of Object.entries({ ...command.flags, ...COMMON_FLAGS })) {
    options[name] = { type: flag.type, ...(flag.multiple === true ? { multiple: true } : {}), ...(flag.short === undefined ? {} : { short: flag.short }) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('. To specify')[0] ?? error.message : String(error);
    throw new UsageError(`${message}${hintFor(message, command)}`);
  }
  const values = parsed.values as Values;
  if (values.help === true) return { values, positionals: parsed.positionals };
  const { min, max, name = 'argument' } = command.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`"${command.name}" needs ${name}`);
  if (parsed.positionals.length > max) {
    throw new UsageError(`"${command.name}" takes ${max === 0 ? 'no argument' : `one ${name}`}; unexpected "${parsed.positionals[max]}"`);
  }
  return { values, positionals: parsed.positionals };
}

/** A string flag's value, or undefined. */
export function stringFlag(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string flag's values (empty when absent). */
export function stringsFlag(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The `--help` text of a command. */
export function helpText(command: Command): string {
  const flags = [...Object.values(command.flags), ...Object.values(COMMON_FLAGS)].map((flag) => `  ${flag.help}`);
  return [`Usage: ${command.usage}`, '', command.summary, '', 'Flags:', ...flags, '', command.details].join('\n');
}
