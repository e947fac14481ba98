/**
 * The adversarial suite's harness: the conformance rows (every adapter), one GenAuth emulator per test
 * file, and per case a capture of everything a refusal could leak through: the answer (status, headers,
 * body), the console and the framework's own logger, and the error the framework's error layer gets.
 *
 * A family file calls {@link useAdversarialEnv} once, starts apps with {@link startProbe} (shared across
 * cases that do not depend on cache state, else one per case) and checks answers with
 * {@link expectRefused} / {@link expectAllowed}.
 */
import { format } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi, type MockInstance } from 'vitest';
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import type { Guard } from '../../src/core/types.js';
import type { GuardOptions } from '../../src/options.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { express4Row, express5Row } from '../conformance/apps/express.js';
import { fastifyRow } from '../conformance/apps/fastify.js';
import { koa2Row, koaRow } from '../conformance/apps/koa.js';
import { nestExpressRow } from '../conformance/apps/nest-express.js';
import { nestFastifyRow } from '../conformance/apps/nest-fastify.js';
import type { Answer } from '../conformance/http.js';
import type { AdapterRow } from '../conformance/row.js';
import { seedStandardTenant } from '../fixtures.js';

export { send, type Answer, type Send } from '../conformance/http.js';
export type { AdapterRow } from '../conformance/row.js';

export const RESOURCES = '/api/v3/get-user-authorized-resources';

/** Every adapter, as in the conformance suite. */
export const ROWS: AdapterRow[] = [express4Row, express5Row, koaRow, koa2Row, fastifyRow, nestExpressRow, nestFastifyRow];

/** Who answers a refusal, for `describe.each(ANSWER_MODES)('$mode', ...)`: the adapter, or the framework's error layer. */
export const ANSWER_MODES = [
  { mode: 'adapter answers', passErrors: false },
  { mode: 'passErrors', passErrors: true },
];

/** Rows whose error layer is Nest's (with `passErrors` Nest's stock filter writes no `WWW-Authenticate`). */
export const isNest = (row: AdapterRow): boolean => row.name.startsWith('Nest');

/** What one case saw besides the answer. Reset before each case. */
export interface Capture {
  /** Console lines (every level) and framework log lines. */
  lines: string[];
  /** Errors the framework's error layer received. */
  errors: unknown[];
  /** Protected handler runs. */
  handled: number;
}

export const capture: Capture = { lines: [], errors: [], handled: 0 };

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Starts the file's emulator and silences-and-records the console; each case starts with an empty
 * capture and a fresh call log. Returns the emulator getter.
 */
export function useAdversarialEnv(): () => GenAuthEmulator {
  let emulator: GenAuthEmulator | undefined;
  const spies: MockInstance[] = [];
  beforeAll(async () => {
    emulator = await startEmulator();
    for (const method of CONSOLE_METHODS) {
      spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void capture.lines.push(`[console.${method}] ${format(...args)}`)));
    }
  });
  afterAll(async () => {
    for (const spy of spies) spy.mockRestore();
    await emulator?.close();
  });
  beforeEach(() => {
    capture.lines = [];
    capture.errors = [];
    capture.handled = 0;
    emulator?.resetCalls();
  });
  afterEach(() => {
    emulator?.clearFaults();
    emulator?.setJwksAvailable(true);
  });
  return () => {
    if (emulator === undefined) throw new Error('the emulator starts in beforeAll');
    return emulator;
  };
}

/** Option overrides, merged one level deep over the emulator's options. */
export interface OptionOverrides {
  genauth?: Record<string, unknown>;
  jwt?: Record<string, unknown>;
  cache?: Record<string, unknown> | false;
  [key: string]: unknown;
}

/** The emulator's guard options with `overrides` merged in (a group of its own replaces nothing else). */
export function optionsFor(emulator: GenAuthEmulator, overrides: OptionOverrides = {}): GuardOptions {
  const base = emulator.guardOptions();
  const { genauth, jwt, cache, ...rest } = overrides;
  return {
    ...rest,
    genauth: { ...base.genauth, ...genauth },
    jwt: { ...base.jwt, ...jwt },
    ...(cache === undefined ? {} : { cache }),
  } as GuardOptions;
}

/** A running app of one row, wired to the capture. */
export interface Probe {
  readonly row: AdapterRow;
  readonly port: number;
  readonly core: Guard;
  /** True when the adapter hands errors to the framework instead of answering. */
  readonly passErrors: boolean;
  close(): Promise<void>;
}

export interface ProbeOptions {
  options: GuardOptions;
  /** The adapter's `passErrors`. @default false */
  passErrors?: boolean;
  /** Start the API-mode app with these options instead of the standard one. */
  api?: ApiModeOptions;
}

/** Starts a row's app (standard or API mode) whose handlers, logs and passed errors feed {@link capture}. */
export async function startProbe(row: AdapterRow, { options, passErrors = false, api }: ProbeOptions): Promise<Probe> {
  const fixture = {
    options: (passErrors ? { ...options, passErrors: true } : options) as GuardOptions,
    handled: () => void capture.handled++,
    log: (line: string) => void capture.lines.push(`[framework] ${line}`),
    passed: (error: unknown) => void capture.errors.push(error),
  };
  let app;
  if (api === undefined) app = await row.start(fixture);
  else if (row.startApi) app = await row.startApi({ ...fixture, api });
  else throw new Error(`${row.name} has no API mode`);
  return { row, port: app.port, core: app.core, passErrors, close: () => app.close() };
}

/**
 * The probes of a suite over the standard tenant: each started with `optionsFor(emulator(), overrides)`,
 * all closed after each test, and the tenant seeded again, so a test's grant changes stay its own.
 */
export function useProbes(emulator: () => GenAuthEmulator): (row: AdapterRow, overrides?: OptionOverrides) => Promise<Probe> {
  let open: Probe[] = [];
  afterEach(async () => {
    await Promise.all(open.map((p) => p.close()));
    open = [];
    seedStandardTenant(emulator());
  });
  return async (row, overrides = {}) => {
    const probe = await startProbe(row, { options: optionsFor(emulator(), overrides) });
    open.push(probe);
    return probe;
  };
}

/**
 * Strings no refusal may show anywhere: the management secret, the HS256 secret, and (given) the
 * token sent and its signature, plus any upstream text.
 */
export function forbiddenStrings(emulator: GenAuthEmulator, token?: string, extra: readonly string[] = []): string[] {
  const list = [emulator.accessKeySecret, emulator.hs256Secret, ...extra];
  if (token) list.push(token, token.split('.').at(-1) ?? '');
  return list.filter((s) => typeof s === 'string' && s.length >= 6);
}

/** A JWT-shaped string: a user token, a management token, or a piece of one. */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}/;

/** Everything an error carries that a logger or error handler could print: messages, stacks, fields, causes. */
export function describeError(value: unknown, seen = new Set<unknown>()): string {
  if (typeof value !== 'object' || value === null) return String(value);
  if (seen.has(value)) return '[seen]';
  seen.add(value);
  const parts: string[] = [];
  if (value instanceof Error) parts.push(value.name, value.message, value.stack ?? '');
  for (const [key, field] of Object.entries(value)) {
    parts.push(key, typeof field === 'object' && field !== null ? describeError(field, seen) : String(field));
  }
  const cause = (value as { cause?: unknown }).cause;
  if (cause !== undefined) parts.push('cause', describeError(cause, seen));
  const errors = (value as { errors?: unknown }).errors;
  if (Array.isArray(errors)) for (const inner of errors) parts.push(describeError(inner, seen));
  return parts.join('\n');
}

/** Where a case looks for leaks. */
export interface LeakScope {
  /** Also the framework's log lines (off only where the client itself put a secret in the URL). @default true */
  frameworkLogs?: boolean;
}

/** No forbidden string, and nothing JWT-shaped, in the answer, the logs or the errors passed on. */
export function expectNoLeak(answer: Answer | undefined, forbidden: readonly string[], scope: LeakScope = {}): void {
  const places: Array<[string, string]> = [];
  if (answer) places.push(['body', answer.body], ['headers', JSON.stringify(answer.headers)]);
  const lines = scope.frameworkLogs === false ? capture.lines.filter((l) => !l.startsWith('[framework]')) : capture.lines;
  places.push(['logs', lines.join('\n')]);
  places.push(['errors passed on', capture.errors.map((e) => describeError(e)).join('\n')]);
  for (const [where, text] of places) {
    for (const secret of forbidden) expect(text.includes(secret), `${where} must not contain ${secret.slice(0, 24)}…`).toBe(false);
    expect(JWT_SHAPE.test(text), `${where} must not contain a JWT`).toBe(false);
  }
}

/** The error a framework received, unwrapped from Nest's exception (which carries the guard error as `error`). */
function guardErrorOf(value: unknown): { code?: string; status?: number; headers?: Record<string, string> } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as { error?: unknown }).error;
  if (typeof inner === 'object' && inner !== null && 'code' in inner) return inner as never;
  return value as never;
}

/** What a refusal must look like. */
export interface Refusal {
  status: number;
  /** The problem `code` of the body. */
  code?: string;
  /** `WWW-Authenticate`: exact value, a pattern, or `null` for none. */
  challenge?: string | RegExp | null;
  /** Calls to get-user-authorized-resources during the case: exact, or `{ max }`. @default 0 */
  upstream?: number | { max: number };
  /** Strings that must appear nowhere (see {@link forbiddenStrings}). */
  forbidden: readonly string[];
  scope?: LeakScope;
}

/** Retry-After of a refusal. With passErrors, Nest's stock filter writes no header of the error: it is read on the error passed on. */
export function retryAfterOf(probe: Probe, answer: Answer): string | undefined {
  if (probe.passErrors && isNest(probe.row)) return guardErrorOf(capture.errors[0])?.headers?.['retry-after'];
  const value = answer.headers['retry-after'];
  return Array.isArray(value) ? value.join(', ') : value;
}

function expectChallenge(actual: string | undefined, challenge: Refusal['challenge']): void {
  if (challenge === undefined) return;
  if (challenge === null) expect(actual).toBeUndefined();
  else if (typeof challenge === 'string') expect(actual).toBe(challenge);
  else expect(actual).toMatch(challenge);
}

export function expectUpstream(emulator: GenAuthEmulator, upstream: number | { max: number }): void {
  const calls = emulator.callCount(RESOURCES);
  if (typeof upstream === 'number') expect(calls, 'upstream calls').toBe(upstream);
  else expect(calls, 'upstream calls').toBeLessThanOrEqual(upstream.max);
}

/**
 * A refusal: the status, the challenge (on the answer, or with `passErrors` on the error passed on,
 * since Nest's stock filter writes none), a problem+json body when the adapter answers, the handler
 * never ran, the upstream calls, and no leak anywhere.
 */
export function expectRefused(emulator: GenAuthEmulator, probe: Probe, answer: Answer, refusal: Refusal): void {
  expect(answer.status, 'status').toBe(refusal.status);
  expect(capture.handled, 'handler runs').toBe(0);
  expectUpstream(emulator, refusal.upstream ?? 0);
  const header = answer.headers['www-authenticate'];
  if (!probe.passErrors) {
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['cache-control']).toBe('no-store');
    if (answer.body !== '' && refusal.code !== undefined) expect(JSON.parse(answer.body)).toMatchObject({ status: refusal.status, code: refusal.code });
    expectChallenge(header, refusal.challenge);
  } else {
    const passed = capture.errors.map(guardErrorOf);
    expect(passed.length, 'an error was passed on').toBeGreaterThan(0);
    const first = passed[0];
    if (refusal.code !== undefined) expect(first?.code).toBe(refusal.code);
    expectChallenge(first?.headers?.['www-authenticate'], refusal.challenge);
    if (!isNest(probe.row)) expectChallenge(header, refusal.challenge);
  }
  const retryAfter = retryAfterOf(probe, answer);
  if (refusal.status === 503) expect(Number(retryAfter), 'Retry-After').toBeGreaterThanOrEqual(1);
  else expect(retryAfter, 'Retry-After').toBeUndefined();
  expectNoLeak(answer, refusal.forbidden, refusal.scope);
}

/** A request the guard let through: 200, the handler ran once, the upstream calls. */
export function expectAllowed(emulator: GenAuthEmulator, answer: Answer, upstream?: number | { max: number }): void {
  expect(answer.status, `status (body ${answer.body.slice(0, 200)})`).toBe(200);
  expect(capture.handled, 'handler runs').toBe(1);
  if (upstream !== undefined) expectUpstream(emulator, upstream);
}

/** The `Authorization` header of a token. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Object.prototype's own keys, to check that no hostile input added one. */
export function prototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}
