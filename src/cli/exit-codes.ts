/** The CLI's exit codes, documented in docs/cli.md: scripts branch on them. */
export const EXIT = Object.freeze({
  /** The check passed: allowed, no unguarded route, options valid and GenAuth reachable, emulator stopped cleanly. */
  OK: 0,
  /** The check failed: denied, unguarded routes found, options invalid or refused by GenAuth, a bad seed. */
  FAILED: 1,
  /** The command line was wrong: an unknown flag or command, a missing argument, a module that cannot be used. */
  USAGE: 2,
  /** GenAuth or the JWKS could not be reached (network, timeout, 5xx, 429): try again later. */
  UNREACHABLE: 3,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the CLI was called: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the command explains itself: printed as is, with its exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
