/**
 * The canary run: every secret the guard holds (the access key secret, the HS256 `jwt.secret`, the
 * webhook secret), every token it is shown, and every text an upstream sends (GenAuth's `message`, a
 * key set server's body) is a distinctive canary string, and the guard is driven down every failure
 * path reachable over HTTP: bad tokens of each kind, GenAuth's 4xx/5xx/error envelopes/timeouts, a
 * failing token endpoint, a failing key set, webhook deliveries with a bad secret or a bad body,
 * `guard.check()`, `guard.explain()` and `guard.ready()`. Each is run on Express with the adapter
 * answering, on Express with `passErrors` (Express's stock handler, which logs the error's stack) and
 * on Fastify with `passErrors` (a handler of ours that records the error). Recorded: every answer
 * (status, headers, body), every line of the guard's logger and the console, every error handed to a
 * framework, every message on every `genauth-guard:*` channel (plain and tracing, errors with their
 * cause chain), and every error the guard's methods reject with. No canary may show anywhere.
 */
import diagnostics from 'node:diagnostics_channel';
import type { JWK } from 'jose';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import type { GuardControls } from '../../src/adapters/guard-controls.js';
import type { GuardOptions } from '../../src/options.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { RESOURCES } from '../fixtures.js';
import { eventBody, jsonHeaders, post } from '../webhooks/http.js';
import { emulatorEnv } from '../../src/cli/emulator.js';
import { runCli, type CliResult } from '../cli/run.js';
import { describeError } from './harness.js';
import { startKeyServer, type KeyServer } from './key-server.js';

const TOKEN_PATH = '/api/v3/get-management-token';
const ENV_JWKS = 'GENAUTH_JWKS_URI';
/** Every canary: a secret configured, or a text an upstream sends, or a value put in a refused token. */
const CANARY = {
  accessKeySecret: 'CANARY-access-key-secret-9d1e',
  jwtSecret: 'CANARY-jwt-secret-hs256-4b7c-0123456789abcdef',
  webhookSecret: 'CANARY-webhook-secret-77aa',
  upstreamMessage: 'CANARY-upstream-message-51f0',
  keySetBody: 'CANARY-key-set-body-c3d2',
  claim: 'CANARY-claim-value-e8a9',
  kid: 'CANARY-kid-2f6b',
  user: 'CANARY-user-of-a-refused-token-aa01',
  sentSecret: 'CANARY-wrong-webhook-secret-0c4d',
  webhookBody: 'CANARY-webhook-body-6e3f',
};
const CANARIES = Object.values(CANARY);
/** Every canary's distinctive core, so a truncated or re-quoted copy is caught too. */
const CORES = CANARIES.map((c) => c.slice(0, 20));

// ---- What the run sees ----

const seen = { lines: [] as string[], errors: [] as unknown[], events: [] as string[], answers: [] as string[], rejections: [] as unknown[] };
const reset = () => Object.values(seen).forEach((list) => (list.length = 0));

const PLAIN = [
  'genauth-guard:decision',
  'genauth-guard:upstream',
  'genauth-guard:webhook',
  'genauth-guard:redis',
  'genauth-guard:cache',
  'genauth-guard:retry-refused',
  'genauth-guard:token',
  'genauth-guard:webhook:received',
  'genauth-guard:webhook:rejected',
  'genauth-guard:webhook:invalidation',
];
const TRACED = ['genauth-guard:load', 'genauth-guard:decision'];

/** A payload as a subscriber could print it: its fields, errors with their message, stack, fields and causes. */
const describePayload = (message: unknown): string => describeError(message);

let stopChannels: () => void = () => undefined;
const consoleSpies: MockInstance[] = [];
function subscribeAll(): void {
  const stops: Array<() => void> = [];
  for (const name of PLAIN) {
    const listener = (message: unknown) => void seen.events.push(`${name} ${describePayload(message)}`);
    diagnostics.subscribe(name, listener);
    stops.push(() => diagnostics.unsubscribe(name, listener));
  }
  for (const name of TRACED) {
    const channel = diagnostics.tracingChannel(name);
    const at = (phase: string) => (message: unknown) => void seen.events.push(`tracing:${name}:${phase} ${describePayload(message)}`);
    const handlers = { start: at('start'), end: at('end'), asyncStart: at('asyncStart'), asyncEnd: at('asyncEnd'), error: at('error') };
    channel.subscribe(handlers);
    stops.push(() => channel.unsubscribe(handlers));
  }
  stopChannels = () => stops.forEach((stop) => stop());
}

/** No canary anywhere the run looked; and the run did look (each case fills some place). */
function expectNoCanary(): void {
  const places: Record<string, string> = {
    answers: seen.answers.join('\n'),
    'logger and console': seen.lines.join('\n'),
    'errors handed to the framework': seen.errors.map((e) => describeError(e)).join('\n'),
    'diagnostics channels': seen.events.join('\n'),
    'rejections of guard methods': seen.rejections.map((e) => describeError(e)).join('\n'),
  };
  for (const [where, text] of Object.entries(places)) {
    for (const canary of CORES) expect(text.includes(canary), `${where} must not contain ${canary}:\n${text.slice(0, 4000)}`).toBe(false);
  }
}

// ---- The stacks ----

let emulator: GenAuthEmulator;
let keys: KeyServer;
let emulatorKeys: JWK[];
beforeAll(async () => {
  emulator = await startEmulator({ accessKeySecret: CANARY.accessKeySecret, hs256Secret: CANARY.jwtSecret });
  emulatorKeys = ((await (await fetch(emulator.jwksUri)).json()) as { keys: JWK[] }).keys;
  keys = await startKeyServer(emulatorKeys);
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    consoleSpies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void seen.lines.push(`[console.${method}] ${format(...args)}`)));
  }
  subscribeAll();
});
afterAll(async () => {
  stopChannels();
  for (const spy of consoleSpies) spy.mockRestore();
  await keys.close();
  await emulator.close();
});
beforeEach(() => {
  reset();
  emulator.clearFaults();
  emulator.resetCalls();
  emulator.setJwksAvailable(true);
  keys.keys(emulatorKeys);
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
});

type Framework = 'express' | 'express passErrors' | 'fastify passErrors';
const FRAMEWORKS: Framework[] = ['express', 'express passErrors', 'fastify passErrors'];

interface Stack {
  guard: GuardControls;
  port: number;
  close(): Promise<void>;
}

/** Guard options: the emulator's, keys from the key server (RS256) or `jwt.secret` (HS256), a logger that records. */
function optionsOf(jwt: 'jwks' | 'hs256', extra: Partial<GuardOptions> = {}): GuardOptions {
  const base = emulator.guardOptions();
  return {
    genauth: { ...base.genauth, retries: 0, timeout: 400 },
    jwt:
      jwt === 'jwks'
        ? { issuer: emulator.issuer, audience: emulator.audience, jwksUri: keys.jwksUri, algorithms: ['RS256'] }
        : { issuer: emulator.issuer, audience: emulator.audience, secret: CANARY.jwtSecret, algorithms: ['HS256'] },
    logger: { warn: (line: string) => void seen.lines.push(`[logger] ${line}`) },
    ...extra,
  } as GuardOptions;
}

async function startStack(framework: Framework, options: GuardOptions): Promise<Stack> {
  const passErrors = framework !== 'express';
  if (framework === 'fastify passErrors') {
    const app: FastifyInstance = Fastify();
    await app.register(genauthGuard, { ...options, passErrors } as never);
    app.setErrorHandler((error, _req, reply) => {
      seen.errors.push(error);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).headers((error as { headers?: Record<string, string> }).headers ?? {}).send({ code: (error as { code?: string }).code });
    });
    app.get('/r', { onRequest: app.genauth.requirePermission('reports', 'reports:Read') }, async () => 'ok');
    app.post('/hook', app.genauth.webhook({ secret: CANARY.webhookSecret }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as AddressInfo;
    return { guard: app.genauth, port: address.port, close: () => app.close() };
  }
  const guard: ExpressGuard = createExpressGuard({ ...options, ...(passErrors ? { passErrors } : {}) } as never);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.post('/hook', guard.webhook({ secret: CANARY.webhookSecret }));
  // Express's stock handler (it logs the error's stack to the console outside production), after a recorder.
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    seen.errors.push(error);
    next(error);
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    guard,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await guard.close();
    },
  };
}

async function get(stack: Stack, authorization?: string): Promise<number> {
  const answer = await post(stack.port, '/r', { method: 'GET', headers: authorization === undefined ? {} : { authorization } });
  seen.answers.push(`${answer.status} ${JSON.stringify(answer.headers)} ${answer.body}`);
  return answer.status;
}

async function deliver(stack: Stack, body: string, headers: Record<string, string>): Promise<number> {
  const answer = await post(stack.port, '/hook', { headers, body });
  seen.answers.push(`${answer.status} ${JSON.stringify(answer.headers)} ${answer.body}`);
  return answer.status;
}

/** The guard's methods, run where they fail, their rejections recorded. */
async function methods(guard: GuardControls): Promise<void> {
  for (const run of [
    () => guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' }),
    () => guard.explain({ userId: 'alice', resource: 'reports', action: 'reports:Read' }),
    () => guard.ready(),
  ]) {
    try {
      seen.answers.push(describeError(await run()));
    } catch (error) {
      seen.rejections.push(error);
    }
  }
}

const bearer = (token: string) => `Bearer ${token}`;
const canaryClaims = { note: CANARY.claim };

describe.each(FRAMEWORKS)('%s', (framework) => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  const start = async (jwt: 'jwks' | 'hs256', extra?: Partial<GuardOptions>) => (stack = await startStack(framework, optionsOf(jwt, extra)));

  it('bad tokens of each kind (RS256 via a key set)', async () => {
    const s = await start('jwks');
    const good = await emulator.mintToken('alice', { claims: canaryClaims });
    const [head, body] = good.split('.');
    const tokens = [
      `${head}.${body}.${CANARY.claim}`, // a bad signature that is a canary
      await emulator.mintToken(CANARY.user, { kid: CANARY.kid, claims: canaryClaims }), // an unknown kid
      await emulator.mintToken(CANARY.user, { expiresIn: -60, claims: canaryClaims }), // expired
      await emulator.mintToken(CANARY.user, { issuer: CANARY.claim, claims: canaryClaims }), // another issuer
      await emulator.mintToken(CANARY.user, { audience: CANARY.claim, claims: canaryClaims }), // another audience
      await emulator.mintToken(CANARY.user, { notBefore: Math.floor(Date.now() / 1000) + 3600, claims: canaryClaims }), // not yet valid
      await emulator.mintToken(CANARY.user, { alg: 'HS256', claims: canaryClaims }), // an algorithm not allowed
      await emulator.mintToken(CANARY.user, { claims: { sub: { nested: CANARY.claim } } }), // a sub that is not a string
      `${Buffer.from(JSON.stringify({ alg: 'none', kid: CANARY.kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: CANARY.user })).toString('base64url')}.`,
      CANARY.claim, // not a JWT at all
      `${CANARY.claim}.${CANARY.claim}.${CANARY.claim}`,
    ];
    for (const token of tokens) expect([401, 403], token.slice(0, 40)).toContain(await get(s, bearer(token)));
    expect(await get(s, `Basic ${CANARY.claim}`)).toBe(401);
    expect(await get(s)).toBe(401);
    expect(seen.events.some((line) => line.startsWith('genauth-guard:token'))).toBe(true);
    expectNoCanary();
  });

  it('bad tokens of each kind (HS256 with jwt.secret)', async () => {
    const s = await start('hs256');
    const forged = await emulator.mintToken(CANARY.user, { alg: 'HS256', key: new TextEncoder().encode(`${CANARY.claim}-0123456789abcdef0123`), claims: canaryClaims });
    expect(await get(s, bearer(forged))).toBe(401);
    expect(await get(s, bearer(await emulator.mintToken(CANARY.user, { alg: 'HS256', expiresIn: -60, claims: canaryClaims })))).toBe(401);
    expect(await get(s, bearer(await emulator.mintToken(CANARY.user, { claims: canaryClaims })))).toBe(401); // RS256 where HS256 is expected
    // A good one still works (control: the secret is the one the emulator signs with).
    expect(await get(s, bearer(await emulator.mintToken('alice', { alg: 'HS256' })))).toBe(200);
    expectNoCanary();
  });

  it('GenAuth failing: envelopes and statuses carrying its message, the token endpoint, a hang', async () => {
    const message = `{"statusCode":%d,"apiCode":%d,"message":"${CANARY.upstreamMessage}","data":null}`;
    const faults = [
      { kind: 'body-error', statusCode: 500, message: CANARY.upstreamMessage, path: RESOURCES },
      { kind: 'body-error', statusCode: 400, message: CANARY.upstreamMessage, path: RESOURCES },
      { kind: 'body-error', statusCode: 403, apiCode: 1301, message: CANARY.upstreamMessage, path: RESOURCES },
      { kind: 'body-error', statusCode: 404, apiCode: 2004, message: CANARY.upstreamMessage, path: RESOURCES },
      { kind: 'body-error', statusCode: 429, message: CANARY.upstreamMessage, path: RESOURCES },
      { kind: 'respond', status: 401, body: format(message, 401, 0), path: RESOURCES },
      { kind: 'respond', status: 403, body: format(message, 403, 0), path: RESOURCES },
      { kind: 'respond', status: 500, body: `<html>${CANARY.upstreamMessage}</html>`, headers: { 'content-type': 'text/html' }, path: RESOURCES },
      { kind: 'respond', status: 200, body: `${CANARY.upstreamMessage} is not JSON`, path: RESOURCES },
      { kind: 'respond', status: 200, body: `{"statusCode":200,"message":"${CANARY.upstreamMessage}","data":{"list":"${CANARY.upstreamMessage}"}}`, path: RESOURCES },
      { kind: 'hang', path: RESOURCES },
      { kind: 'body-error', statusCode: 500, message: CANARY.upstreamMessage, path: TOKEN_PATH },
      { kind: 'body-error', statusCode: 403, apiCode: 1301, message: CANARY.upstreamMessage, path: TOKEN_PATH },
      { kind: 'respond', status: 200, body: `{"statusCode":200,"message":"${CANARY.upstreamMessage}","data":{"access_token":"${CANARY.upstreamMessage}!","expires_in":7200}}`, path: TOKEN_PATH },
    ] as const;
    let user = 0;
    for (const fault of faults) {
      // A fresh guard each time: a 429 (or a refused credential) holds later calls back.
      const s = await start('jwks');
      emulator.clearFaults();
      emulator.fault(fault as never);
      const status = await get(s, bearer(await emulator.mintToken(`alice-${user++}`)));
      // A user GenAuth does not know (statusCode 404, apiCode 2004) has no grants: a 403.
      expect(status, JSON.stringify(fault)).toBe('apiCode' in fault && fault.apiCode === 2004 ? 403 : 503);
      await methods(s.guard);
      await s.close();
      stack = undefined;
    }
    expect(seen.rejections.length).toBeGreaterThan(0);
    expectNoCanary();
  });

  it('the key set failing, its body carrying text', async () => {
    const answers = [
      { kind: 'raw', status: 500, body: CANARY.keySetBody },
      { kind: 'raw', status: 200, body: `${CANARY.keySetBody} not json` },
      { kind: 'raw', status: 200, body: `{"keys":"${CANARY.keySetBody}"}` },
      { kind: 'raw', status: 200, body: `{"keys":[{"kty":"${CANARY.keySetBody}","kid":"${CANARY.keySetBody}"}]}` },
      { kind: 'raw', status: 200, body: `["${CANARY.keySetBody}"]` },
      { kind: 'hang' },
      { kind: 'drop' },
    ] as const;
    for (const answer of answers) {
      // A fresh guard each time: the key set is fetched on its first token.
      const s = await start('jwks', { jwt: { issuer: emulator.issuer, audience: emulator.audience, jwksUri: keys.jwksUri, algorithms: ['RS256'], jwks: { timeoutDuration: 300 } } } as never);
      keys.answer(answer as never);
      const status = await get(s, bearer(await emulator.mintToken('alice', { claims: canaryClaims })));
      // A key set whose only key is unusable has no key for the token's kid: a 401 unknown_key.
      expect(status, JSON.stringify(answer)).toBe(answer.kind === 'raw' && answer.body.includes('"kty"') ? 401 : 503);
      await methods(s.guard);
      await s.close();
      stack = undefined;
    }
    expect(seen.lines.length).toBeGreaterThan(0);
    expectNoCanary();
  });

  it('webhook deliveries: a bad secret, bad bodies, a good one', async () => {
    const s = await start('jwks');
    expect(await deliver(s, eventBody('user:updated', { userId: 'alice' }), jsonHeaders(CANARY.sentSecret))).toBe(401);
    expect(await deliver(s, eventBody('user:updated', { userId: 'alice' }), jsonHeaders(`${CANARY.webhookSecret}x`))).toBe(401);
    expect(await deliver(s, `{"eventName": "${CANARY.webhookBody}", "data": ${CANARY.webhookBody}}`, jsonHeaders(CANARY.webhookSecret))).toBe(400);
    expect(await deliver(s, `{"eventName": "user:updated", "data": "${CANARY.webhookBody}"}`, jsonHeaders(CANARY.webhookSecret))).toBe(400);
    expect(await deliver(s, JSON.stringify({ eventName: 'user:updated', data: { userId: 'alice', userId2: CANARY.webhookBody } }), jsonHeaders(CANARY.webhookSecret))).toBe(204);
    expect(await deliver(s, 'eventName=x', { ...jsonHeaders(CANARY.webhookSecret), 'content-type': `text/${CANARY.webhookBody}` })).toBeGreaterThanOrEqual(400);
    expectNoCanary();
  });
});

// Each test starts the CLI up to 18 times, one Node process after another: about 0.3 s of CPU each,
// 1.5 s or more of wall time on a loaded 2-core machine (Node 20 has no compile cache), which passed the
// default 20 s. The time is the processes' start-up, not a condition waited for.
describe('the CLI (dist/cli.js): check-config and explain with canary secrets, upstream text and bad options', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'genauth-canary-'));
  /** A module of options that are wrong, each holding a canary. */
  const badModules = {
    'short-secret.mjs': { jwt: { issuer: 'https://issuer.example', audience: 'a', secret: CANARY.jwtSecret.slice(0, 24), algorithms: ['HS256'] } },
    'misspelt.mjs': { genauth: { host: 'http://127.0.0.1:1', userPoolId: 'p', accessKeyId: 'k', acessKeySecret: CANARY.accessKeySecret }, jwt: { issuer: 'https://issuer.example', audience: 'a', secret: CANARY.jwtSecret, algorithms: ['HS256'] } },
    // A secret read into the wrong key (jwt.algorithms): the error names the place, never the value.
    'secret-as-algorithm.mjs': { jwt: { issuer: 'https://issuer.example', audience: 'a', jwksUri: 'https://issuer.example/jwks', algorithms: [CANARY.jwtSecret] } },
    'secret-type.mjs': { genauth: { host: 'http://127.0.0.1:1', userPoolId: 'p', accessKeyId: CANARY.accessKeySecret, accessKeySecret: [CANARY.accessKeySecret] }, jwt: { issuer: 'https://issuer.example', audience: 'a', secret: CANARY.jwtSecret, algorithms: ['HS256'] } },
  };
  for (const [name, options] of Object.entries(badModules)) writeFileSync(join(dir, name), `export default ${JSON.stringify(options)};\n`);
  const env = (extra: Record<string, string> = {}) => ({ ...emulatorEnv(emulator), [ENV_JWKS]: keys.jwksUri, ...extra });
  const record = (result: CliResult) => void seen.lines.push(`[cli ${result.code}] ${result.stdout}\n${result.stderr}`);

  it('check-config and explain while GenAuth and the key set answer with canaries, and with a wrong secret', async () => {
    emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
    const explain = ['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read'];
    const check = ['check-config', 'test/cli/fixtures/options-env.mjs'];
    // Controls: both succeed with the canary secret configured (the secret is right).
    expect((await runCli(explain, env())).code).toBe(0);
    expect((await runCli(check, env())).code).toBe(0);
    const runs: Array<[string, () => void, string[], Record<string, string>?]> = [
      ['a wrong access key secret', () => undefined, check, { GENAUTH_ACCESS_KEY_SECRET: CANARY.sentSecret }],
      ['a wrong access key secret (explain)', () => undefined, explain, { GENAUTH_ACCESS_KEY_SECRET: CANARY.sentSecret }],
      ['an error envelope', () => emulator.fault({ kind: 'body-error', statusCode: 500, message: CANARY.upstreamMessage }), explain],
      ['refused credentials', () => emulator.fault({ kind: 'body-error', statusCode: 403, apiCode: 1301, message: CANARY.upstreamMessage }), check],
      ['an HTML page', () => emulator.fault({ kind: 'respond', status: 502, body: `<p>${CANARY.upstreamMessage}</p>`, headers: { 'content-type': 'text/html' } }), check],
      ['a key set of text', () => keys.answer({ kind: 'raw', status: 200, body: `${CANARY.keySetBody}` }), check],
      ['a key set error page', () => keys.answer({ kind: 'raw', status: 500, body: `${CANARY.keySetBody}` }), check],
    ];
    for (const [label, arrange, args, extra] of runs) {
      emulator.clearFaults();
      keys.keys(emulatorKeys);
      arrange();
      for (const json of [false, true]) {
        const result = await runCli(json ? [...args, '--json'] : args, env(extra));
        expect(result.code, label).not.toBe(0);
        record(result);
      }
    }
    expectNoCanary();
  });

  it('check-config of modules whose wrong options hold secrets', async () => {
    for (const name of Object.keys(badModules)) {
      for (const json of [false, true]) {
        const result = await runCli(['check-config', join(dir, name), ...(json ? ['--json'] : [])], {});
        expect(result.code, name).not.toBe(0);
        record(result);
      }
    }
    expectNoCanary();
  });

  // A module whose export is a promise that rejects: a secrets file parsed as JSON (V8 quotes the text
  // around the mistake), or an engine error quoting the file, is told by its name and line only.
  it('check-config of a module exporting a promise that rejects with text of a secrets file', async () => {
    const modules = {
      'rejects-json.mjs': `const text = ${JSON.stringify(`GENAUTH_ACCESS_KEY_SECRET=${CANARY.accessKeySecret}`)};\nexport default Promise.resolve().then(() => JSON.parse(text));\n`,
      'rejects-reference.mjs': `export default Promise.resolve().then(() => ${CANARY.accessKeySecret.replaceAll('-', '_')});\n`,
    };
    for (const [name, text] of Object.entries(modules)) {
      writeFileSync(join(dir, name), text);
      for (const json of [false, true]) {
        const result = await runCli(['check-config', join(dir, name), ...(json ? ['--json'] : [])], {});
        expect(result.code, name).toBe(1);
        expect(result.stderr, name).toContain('could not be loaded');
        // V8 quotes only the first characters of a long text: those must not show either.
        expect(`${result.stdout}${result.stderr}`, name).not.toContain('GENAUTH_AC');
        record({ ...result, stdout: result.stdout.replaceAll('_', '-'), stderr: result.stderr.replaceAll('_', '-') });
      }
    }
    expectNoCanary();
  });

  // The app's own start-up (Fastify's ready(), run by `routes`) failing on a secrets file it parses.
  it('routes of a Fastify app whose plugin fails in ready() with text of a secrets file', async () => {
    const file = join(dir, 'fastify-rejects.mjs');
    const text = `GENAUTH_ACCESS_KEY_SECRET=${CANARY.accessKeySecret}`;
    writeFileSync(
      file,
      [
        `import Fastify from ${JSON.stringify(import.meta.resolve('fastify'))};`,
        'const app = Fastify();',
        `app.register(async () => { JSON.parse(${JSON.stringify(text)}); });`,
        "app.get('/x', async () => 'ok');",
        'export default app;',
        '',
      ].join('\n'),
    );
    for (const json of [false, true]) {
      const result = await runCli(['routes', file, ...(json ? ['--json'] : [])], {});
      expect(result.code).toBe(1);
      expect(`${result.stdout}${result.stderr}`).not.toContain('GENAUTH_AC');
      expect(result.stderr).toContain('SyntaxError');
      record(result);
    }
    expectNoCanary();
  });

  // Such a host is refused as an option (a TypeError naming genauth.host); the CLI's progress lines also
  // show a host without userinfo (shownUrl), should one ever reach them.
  it('check-config and explain never print a credential written into genauth.host (user:password@)', async () => {
    const withCredential = (url: string) => url.replace('http://', `http://user:${CANARY.accessKeySecret}@`);
    const hostModule = join(dir, 'host-credential.mjs');
    const options = { genauth: { host: withCredential('http://127.0.0.1:1/'), userPoolId: 'p', accessKeyId: 'k', accessKeySecret: 'a-secret-not-a-canary' }, jwt: { issuer: 'https://issuer.example', audience: 'a', secret: 'x'.repeat(32), algorithms: ['HS256'] } };
    writeFileSync(hostModule, `export default ${JSON.stringify(options)};\n`);
    for (const json of [false, true]) {
      const suffix = json ? ['--json'] : [];
      record(await runCli(['check-config', hostModule, ...suffix], {}));
      record(await runCli(['explain', '--user', 'alice', '--resource', 'reports', '--action', 'reports:Read', ...suffix], env({ GENAUTH_HOST: withCredential(emulator.url) })));
    }
    // The runs did tell the option (the check is not vacuous).
    expect(seen.lines.join('\n')).toContain('genauth.host');
    expect(seen.lines.join('\n')).toContain('user name or password');
    expectNoCanary();
  });
});
