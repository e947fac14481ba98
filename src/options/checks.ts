/**
 * The checks every options object of ours goes through: the guard and its groups, the adapters, API
 * mode, route options, the Nest module and the emulator. One message format for every mistake:
 * `genauth-guard: option "<path>" <problem>`, thrown as a `TypeError` when the object is built.
 */
import { closestKey } from './suggest.js';

/** The option mistake error, in the one format. Never put the option's value in `problem`. */
export function optionError(path: string, problem: string, options?: { cause?: unknown }): TypeError {
  return new TypeError(`genauth-guard: option "${path}" ${problem}`, options);
}

/** Throws {@link optionError}. */
export function fail(path: string, problem: string): never {
  throw optionError(path, problem);
}

/** `parent.key`, or `key` at the top level (parent ''). */
export function optionPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * A plain object (a literal, or one without a prototype), as a copy of its own enumerable properties
 * read once; else a TypeError naming `path`. The checks and the code after them read that copy, so
 * both see the same values: a getter or an inherited property (a class instance, `Object.create`) was
 * checked through the object and then dropped by a spread (`jwt.audience` passed, then went
 * unchecked), a Map's entries were ignored, and a polluted `Object.prototype` filled options left out.
 */
export function optionObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  const proto = Object.getPrototypeOf(value) as object | null;
  // An Object.prototype of any realm (a config module run in a vm context) is the last before null.
  if (proto !== null && (Object.getPrototypeOf(proto) !== null || !Object.hasOwn(proto, 'isPrototypeOf'))) {
    fail(path, 'must be a plain object (an object literal), not a class instance, a Map or an object with a prototype');
  }
  const own: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) own[key] = (value as Record<string, unknown>)[key];
  return own;
}

/**
 * Refuses every own key of `value` not in `allowed`: a misspelt key would otherwise be ignored and its
 * default silently kept (`jwt: { audiance }` left the audience unchecked). The error names the key's
 * path and the closest valid key; `nested` lists the keys of sub-objects, so a key given one level too
 * high (`audience` beside `jwt`) is pointed to where it belongs (`jwt.audience`). A key is refused even
 * when its value is `undefined`. Only for objects of ours: never for a JWK, a client or a logger.
 */
export function refuseUnknownKeys(
  value: object,
  allowed: readonly string[],
  path: string,
  nested: Readonly<Record<string, readonly string[]>> = {},
): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const where = optionPath(path, key);
    const hint = suggestion(key, allowed, path, nested);
    if (hint !== undefined) fail(where, `is not an option; did you mean "${hint}"?`);
    fail(where, `is not an option (${path === '' ? 'the options are' : `the options of "${path}" are`}: ${allowed.join(', ')})`);
  }
}

function suggestion(key: string, allowed: readonly string[], path: string, nested: Readonly<Record<string, readonly string[]>>): string | undefined {
  const own = closestKey(key, allowed);
  // A key of this object spelt with other capitals wins; then the same key one level down; then the
  // closest key of this object; then the closest one level down.
  if (own !== undefined && own.toLowerCase() === key.toLowerCase()) return optionPath(path, own);
  const groups = Object.entries(nested);
  for (const [group, keys] of groups) {
    const exact = keys.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    if (exact !== undefined) return optionPath(path, `${group}.${exact}`);
  }
  if (own !== undefined) return optionPath(path, own);
  for (const [group, keys] of groups) {
    const close = closestKey(key, keys);
    if (close !== undefined) return optionPath(path, `${group}.${close}`);
  }
  return undefined;
}

/** A checked object of ours: `value` when it is an object with only `allowed` keys. */
export function strictObject(value: unknown, allowed: readonly string[], path: string): Record<string, unknown> {
  const object = optionObject(value, path);
  refuseUnknownKeys(object, allowed, path);
  return object;
}

/**
 * What a key present with the value `undefined` means. For most options, "not set": the default, and
 * the default is the safe one (`genauth.host`, `jwt.clockTolerance`, a second key source beside the one
 * set). For an option whose default chooses whose grants are read, see {@link refuseUndefinedChoice}.
 * For an option whose absence turns a check off (`jwt.audience`, `jwt.issuer`, `jwt.typ`,
 * `jwt.requiredClaims`, `jwt.maxTokenAge`, `genauth.resourceType`, a route's `resourceType`), it is
 * refused here: `audience: process.env.GENAUTH_AUDIENCE` with the variable unset would otherwise turn
 * the check off without a word, as a misspelt key once did. Leaving the key out stays the way to check
 * nothing. `input` is an {@link optionObject} copy, which keeps such keys.
 * @param turnsOff what the check is (`the check of the tokens' aud`)
 * @param fix what to set instead (`set it to the application's App ID`)
 * @param optOut what leaving the key out does (`check no audience`); without it, no opt-out is named
 */
export function refuseUndefinedKey(input: Record<string, unknown>, key: string, path: string, turnsOff: string, fix: string, optOut?: string): void {
  refuseUndefined(input, key, path, `turn off ${turnsOff}`, fix, optOut);
}

/**
 * As {@link refuseUndefinedKey}, for an option whose default is not a check turned off but another
 * choice of whose grants are read (`genauth.namespace`, `genauth.userIdType`, `genauth.tenantId`,
 * `identity.claim`, ...): `namespace: process.env.GENAUTH_NAMESPACE` with the variable unset read the
 * grants of the space `default` instead of the one meant, without a word.
 * @param instead what the default would silently do (`read the grants of the permission space "default"`)
 * @param optOut what leaving the key out gives (`use "default"`)
 */
export function refuseUndefinedChoice(input: Record<string, unknown>, key: string, path: string, instead: string, fix: string, optOut: string): void {
  refuseUndefined(input, key, path, `silently ${instead}`, fix, optOut);
}

function refuseUndefined(input: Record<string, unknown>, key: string, path: string, would: string, fix: string, optOut: string | undefined): void {
  if (!Object.hasOwn(input, key) || input[key] !== undefined) return;
  fail(path, `is set to undefined (an unset environment variable?), which would ${would}: ${fix}${optOut === undefined ? '' : `; to ${optOut}, leave the key out`}`);
}

/** What a required option's message adds when its value is `undefined`, as an unset variable gives. */
export function unsetHint(value: unknown): string {
  return value === undefined ? '; it is undefined (an unset environment variable?)' : '';
}

export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, `must be a non-empty string${unsetHint(value)}`);
  return value;
}

/** `fallback` when undefined, else a non-empty string. */
export function optionalString(value: unknown, path: string, fallback: string): string;
export function optionalString(value: unknown, path: string, fallback?: string): string | undefined;
export function optionalString(value: unknown, path: string, fallback?: string): string | undefined {
  return value === undefined ? fallback : nonEmptyString(value, path);
}

/** `fallback` when undefined, else a finite number > 0 (>= 0 with `allowZero`). */
export function positiveNumber(value: unknown, path: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(path, allowZero ? 'must be a finite number >= 0' : 'must be a finite number > 0');
  }
  return value;
}

/** The longest delay a Node timer waits: a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration a timer waits (`fallback` when undefined): a finite number > 0 of at most
 * {@link LONGEST_TIMER_MS}, since a longer timeout, meant as "wait long", would time out at once.
 */
export function timerDuration(value: unknown, path: string, fallback: number): number {
  const ms = positiveNumber(value, path, fallback);
  if (ms > LONGEST_TIMER_MS) fail(path, `must be at most ${LONGEST_TIMER_MS} (ms; a Node timer cannot wait longer and would fire at once)`);
  return ms;
}

/** `false` (the option turned off), `fallback` when undefined, else a {@link timerDuration}. */
export function timerDurationOrFalse(value: unknown, path: string, fallback: number): number | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) fail(path, 'must be a finite number > 0 (ms) or false');
  return timerDuration(value, path, fallback);
}

/** `fallback` when undefined, else a safe integer > 0 (>= 0 with `allowZero`). */
export function positiveInteger(value: unknown, path: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (!allowZero && value === 0)) {
    fail(path, allowZero ? 'must be an integer >= 0' : 'must be an integer > 0');
  }
  return value as number;
}

/** `fallback` when undefined, else a boolean. */
export function optionalBoolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'must be a boolean');
  return value;
}

/** `fallback` when undefined, else one of `allowed`. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, fallback: T): T;
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, fallback?: T): T | undefined;
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) fail(path, `must be one of ${allowed.map((v) => `"${v}"`).join(', ')}`);
  return value as T;
}

/** An absolute http(s) URL. */
export function httpUrl(value: unknown, path: string): string {
  const text = nonEmptyString(value, path);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(path, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(path, 'must be an http(s) URL');
  // fetch refuses a URL with credentials outright, and GenAuth never takes them: told now, not echoed.
  if (url.username !== '' || url.password !== '') {
    fail(path, 'must not carry a user name or password (user:password@host): fetch refuses such a URL, so every request would be a 503, and GenAuth authenticates with the access key, never URL credentials. Remove them (and rotate the password if it was a real one)');
  }
  return text;
}
