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

/**
 * Characters a terminal acts on rather than shows: C0 controls (ESC starts a sequence that can retitle
 * or clear it, CR overwrites a line), DEL, C1 controls (U+009B is an 8-bit CSI), the line separators and
 * the bidi controls (U+202E shows what follows reversed).
 */
const UNSAFE = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_CHARS = new RegExp(`[${UNSAFE}]`, 'g');
/** The same but the line feed, for text made of several lines of ours. */
const UNSAFE_BUT_LF = new RegExp(`(?!\\n)[${UNSAFE}]`, 'g');

const escaped = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * A value from outside (a GenAuth answer, an app's route path, a module's key or error) as shown in one
 * line of text: its control and bidi characters, line feeds included, escaped visibly (`\u001b`).
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_CHARS, escaped);
}

/** What reaches the terminal: whatever a command missed is escaped here too (line feeds kept). */
function printableLines(text: string): string {
  return text.replace(UNSAFE_BUT_LF, escaped);
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(`${printableLines(line)}\n`),
  progress: (line) => void process.stderr.write(`genauth-guard: ${printableLines(line)}\n`),
  // The guard's own warnings already carry the prefix.
  error: (line) => void process.stderr.write(`${line.startsWith('genauth-guard: ') ? '' : 'genauth-guard: '}${printableLines(line)}\n`),
};

/**
 * JSON for `--json`: Sets and Maps as arrays, so a normalized grant's action set prints. What
 * JSON.stringify leaves raw in strings (DEL, C1, bidi controls, U+2028) is written `\uXXXX` too: still
 * valid JSON that parses to the same values, and safe to print to a terminal. `indent` 0: one line.
 */
export function toJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof Set ? [...v] : v instanceof Map ? Object.fromEntries(v) : v), indent);
  return printableLines(text);
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
