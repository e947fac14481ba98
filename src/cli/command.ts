/** What every subcommand is: its flags, its help, and what it does with them. */
import type { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';

/** One flag, as node:util's parseArgs takes it, plus the line `--help` prints for it. */
export interface Flag {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** `--flag VALUE  what it does`, as printed by `--help`. */
  help: string;
}

/** Parsed flags (`--help` handled before `run`). */
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `genauth-guard <name> ...` synopsis. */
  usage: string;
  /** Paragraphs after the flags in `--help`: what it prints, exit codes, an example. */
  details: string;
  flags: Record<string, Flag>;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number; name?: string };
  run(values: Values, positionals: string[], io: Io): Promise<ExitCode>;
}
