/**
 * A request without a token (401 ERR_MISSING_TOKEN) is a token refused like any other, over real HTTP
 * (Express and Koa, the emulator): told on `genauth-guard:token` as `{ reason: 'missing' }` and counted
 * by the OpenTelemetry bridge in `genauth_guard.token.refusals`, whether the header is absent or of
 * another scheme, a `getToken` hook finds none, or an `identity.resolve` hook returns none; on a
 * permission route and on an authenticate-only one. It is no decision: `genauth_guard.decisions` does
 * not move. (Nothing is published without a subscriber: zero-cost.test.ts.)
 */
import diagnostics from 'node:diagnostics_channel';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { createKoaGuard, type KoaGuard } from '../../src/adapters/koa.js';
import type { GuardOptions } from '../../src/options.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';
import { points, startTestSdk, valueOf, type TestSdk } from '../otel/sdk.js';

const emulator = useEmulator();
const trackExpress = closeAfterEach<ExpressGuard>();
const trackKoa = closeAfterEach<KoaGuard>();

let sdk: TestSdk;
let otel: GenAuthGuardInstrumentation;
let told: unknown[] = [];
const onToken = (message: unknown) => void told.push({ ...(message as object) });
beforeEach(() => {
  resetToAliceReading(emulator());
  sdk = startTestSdk();
  otel = instrumentGenAuthGuard({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  told = [];
  diagnostics.subscribe('genauth-guard:token', onToken);
});
afterEach(async () => {
  diagnostics.unsubscribe('genauth-guard:token', onToken);
  otel.disable();
  await sdk.shutdown();
});

const refusedMissing = async () => valueOf((await sdk.metrics()).get('genauth_guard.token.refusals'), { 'genauth_guard.token.reason': 'missing' });
const decisionCounts = async () => points((await sdk.metrics()).get('genauth_guard.decisions')).length;

/** Where the caller comes from: the header (default), a getToken hook, or an identity.resolve hook, each finding none here. */
const SOURCES: Array<[string, (base: GuardOptions) => GuardOptions, Record<string, string>]> = [
  ['no Authorization header', (base) => base, {}],
  ['an Authorization header of another scheme', (base) => base, { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
  ['a getToken hook that finds none', (base) => ({ ...base, getToken: () => undefined }), {}],
  ['an identity.resolve hook that finds none', ({ jwt: _jwt, ...base }) => ({ ...base, identity: { resolve: () => undefined } }), {}],
];

type App = (options: GuardOptions) => { server: Parameters<typeof request>[0] };

const FRAMEWORKS: Array<[string, App]> = [
  [
    'Express',
    (options) => {
      const guard = trackExpress(createExpressGuard(options));
      const app = express();
      app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
      app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
      return { server: app };
    },
  ],
  [
    'Koa',
    (options) => {
      const guard = trackKoa(createKoaGuard(options));
      const router = new Router();
      router.get('/r', guard.requirePermission('reports', 'reports:Read'), (ctx) => void (ctx.body = 'ok'));
      router.get('/me', guard.authenticate(), (ctx) => void (ctx.body = 'ok'));
      return { server: new Koa().use(router.routes()).callback() };
    },
  ],
];

describe.each(FRAMEWORKS)('%s', (_framework, start) => {
  it.each(SOURCES)('%s: 401, told and counted as a token refused for reason missing, no decision', async (_source, options, headers) => {
    const { server } = start(options(emulator().guardOptions()));
    for (const path of ['/r', '/me']) {
      const res = await request(server).get(path).set(headers);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_MISSING_TOKEN');
    }
    expect(told).toEqual([{ reason: 'missing' }, { reason: 'missing' }]);
    expect(await refusedMissing()).toBe(2);
    expect(await decisionCounts()).toBe(0);
  });
});
