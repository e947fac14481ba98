/**
 * Where the CLI writes: results to stdout (a table, or one JSON document with `--json`), progress and
 * errors to stderr, so `genauth-guard routes app.js --json | jq` reads only the result.
 */
export interface Io {
  /** A result line (stdout). */
  out(line: string): void;
  /** A progress line (stderr), before anything that waits on the network or loads user code. */
  progress(line: string): void;
  /** An error or warning line (stderr). */
  error(line: string): void;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  progress: (line) => void process.stderr.write(`genauth-guard: ${line}\n`),
  // The guard's own warnings already carry the prefix.
  error: (line) => void process.stderr.write(line.startsWith('genauth-guard: ') ? `${line}\n` : `genauth-guard: ${line}\n`),
};

/** JSON for `--json`: Sets and Maps as arrays, so a normalized grant's action set prints. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Set ? [...v] : v instanceof Map ? Object.fromEntries(v) : v), 2);
}

/**
 * A URL as the CLI prints it: without a `user:password@` part, its query or its fragment, which can
 * hold a credential (a proxy's password, an API key) that must not reach a terminal or a CI log.
 * A text that is not a URL is shown as `(the configured URL)`.
 */
export function shownUrl(url: string): string {
  if (!URL.canParse(url)) return '(the configured URL)';
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}
