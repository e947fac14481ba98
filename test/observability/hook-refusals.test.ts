/**
 * What a `getToken` or `identity.resolve` hook returns is refused as a header's token would be, and
 * told and counted the same way, over real HTTP (Express, the emulator): a `getToken` value that is no
 * string (401 `malformed`), an `identity.resolve` value that is no fit user id (401 `identity_claim`),
 * a revoked user (401 `revoked`). Each on `genauth-guard:token` by its reason and in the bridge's
 * `genauth_guard.token.refusals`, as the verifier tells its own refusals; no decision.
 */
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GuardOptions } from '../../src/options.js';
import { instrumentGenAuthGuard, type GenAuthGuardInstrumentation } from '../../src/otel/index.js';
import { closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';
import { points, startTestSdk, type TestSdk } from '../otel/sdk.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

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

const counted = async (name: string) => points((await sdk.metrics()).get(name)).map((point) => [point.attributes, point.value]);

const withoutJwt = ({ jwt: _jwt, ...base }: GuardOptions): GuardOptions => base;
const CASES: Array<[string, (base: GuardOptions) => GuardOptions, string, (guard: ExpressGuard) => unknown]> = [
  ['a getToken value that is no string', (base) => ({ ...base, getToken: () => 42 as unknown as string }), 'malformed', () => {}],
  ['an identity.resolve value that is no fit user id', (base) => ({ ...withoutJwt(base), identity: { resolve: () => 'ali\nce' } }), 'identity_claim', () => {}],
  ['an identity.resolve user who was revoked', (base) => ({ ...withoutJwt(base), identity: { resolve: () => 'alice' } }), 'revoked', (guard) => guard.revokeUser('alice')],
];

it.each(CASES)('%s: 401 ERR_INVALID_TOKEN, told and counted by its reason, no decision', async (_case, options, reason, before) => {
  const guard = track(createExpressGuard(options(emulator().guardOptions())));
  await before(guard);
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
  for (const path of ['/r', '/me']) {
    const res = await request(app).get(path);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_INVALID_TOKEN');
  }
  expect(told).toEqual([{ reason }, { reason }]);
  expect(await counted('genauth_guard.token.refusals')).toEqual([[{ 'genauth_guard.token.reason': reason }, 2]]);
  expect(await counted('genauth_guard.decisions')).toEqual([]);
});
