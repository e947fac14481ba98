/**
 * `genauth-guard check-config ./guard-options.js`: loads an options module, validates it with the
 * guard's own resolver (the TypeError names the option), then checks that GenAuth and the JWKS answer.
 */
import { resolveOptions } from '../options/resolve.js';
import type { GuardOptions } from '../options/types.js';
import type { Command } from './command.js';
import { checkConnectivity, type ConnectivityProblem } from './connectivity.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { printable, toJson, type Io } from './io.js';
import { loadModuleExport } from './load-module.js';

/** What `--json` prints. */
export interface CheckConfigReport {
  valid: boolean;
  /** The resolver's message when invalid. */
  error?: string;
  /** Whether guard.ready() (and, under the signature scheme without warm.users, a signed call) succeeded; absent with --offline or when invalid. */
  ready?: boolean;
  /** What failed, each naming the option to check (absent with --offline or when invalid). */
  problems?: ConnectivityProblem[];
}

function exitCodeOf(report: CheckConfigReport): ExitCode {
  if (!report.valid) return EXIT.FAILED;
  const problems = report.problems ?? [];
  if (problems.length === 0) return EXIT.OK;
  // An outage is worth a retry; refused credentials or a wrong URL are not.
  return problems.every((problem) => problem.transient) ? EXIT.UNREACHABLE : EXIT.FAILED;
}

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'Validates an options module with the guard\'s own checks, then checks that GenAuth and the JWKS answer.',
  usage: 'genauth-guard check-config <options-module> [--offline] [--json]',
  flags: {
    offline: { type: 'boolean', help: '--offline            validate only; do not contact GenAuth or the JWKS' },
    json: { type: 'boolean', help: '--json               print { valid, error?, ready?, problems?: [{ kind, option, cause, transient }] } as JSON' },
  },
  positionals: { min: 1, max: 1, name: 'the options module (a path)' },
  details: [
    'The module (ESM or CommonJS) exports the guard options (what createGuard and every adapter take), as',
    'default or as `options`; it reads its secrets from the environment as your app does. Then guard.ready()',
    'runs: the keys are fetched (jwt.jwksUri, or the issuer\'s discovery document), a management token is asked',
    'for (with authScheme "signature", the warm.users loads are signed calls, or else one for a made-up user),',
    'Redis is asked GET, EVAL and PUBLISH once each (cache.redis: a command its ACL refuses is a problem to',
    'fix) and warm.users are loaded. Each problem names the option to check. No secret is printed.',
    '',
    'Exit codes: 0 valid and reachable, 1 invalid options, refused credentials or a user pool id the access',
    'key is not of, 2 usage error (no such file, no export), 3 GenAuth or the JWKS unreachable.',
    '',
    'Example: genauth-guard check-config ./dist/guard-options.js',
  ].join('\n'),
  async run(values, [path], io: Io) {
    io.progress(`loading ${path}`);
    const { value } = await loadModuleExport(path as string, 'options', 'options');
    const report: CheckConfigReport = { valid: true };
    try {
      resolveOptions(value as GuardOptions);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      report.valid = false;
      report.error = error.message;
    }
    if (report.valid && values.offline !== true) {
      const problems = await checkConnectivity(value as GuardOptions, io);
      report.ready = problems.length === 0;
      report.problems = problems;
    }
    if (values.json === true) io.out(toJson(report));
    else {
      // The resolver's message quotes the module's own keys.
      io.out(report.valid ? 'options: valid' : `options: INVALID: ${printable(report.error ?? '')}`);
      if (report.ready !== undefined) io.out(`ready: ${report.ready ? 'yes' : 'no'}`);
      for (const problem of report.problems ?? []) io.out(printable(`problem (${problem.option}): ${problem.cause}`));
    }
    return exitCodeOf(report);
  },
};
