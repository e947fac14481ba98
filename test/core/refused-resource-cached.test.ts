// A resource code the policy refuses (a missing value: `ecs:undefined`, `ecs:NaN`, `ecs:[object Object]`)
// decided from cached grants: `core.enforce()` throws the typed 500 (GuardInternalError, ERR_INTERNAL,
// the policy's TypeError as its cause) whether or not the decision trace has a subscriber, the same
// error a decision without cached grants rejects with. Over HTTP (Express, the emulator) the answer
// and the error handed to the framework's error layer are that 500 either way.
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { routeSpec } from '../../src/core/enforce/route.js';
import { createGuard } from '../../src/core/guard.js';
import type { Guard } from '../../src/core/types.js';
import { GuardInternalError, isGuardError } from '../../src/errors.js';
import { tracing, type DecisionTrace } from '../../src/events.js';
import type { DecisionRecord } from '../../src/options.js';
import { bearerFor, closeAfterEach, seedStandardTenant, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const trackCore = closeAfterEach<Guard>();
const trackExpress = closeAfterEach<ExpressGuard>();

const REFUSED_CODES = ['ecs:undefined', 'ecs:NaN', 'ecs:[object Object]'];
const readReports = routeSpec('reports', 'reports:Read');
const requestOf = (authorization: string) => ({ method: 'GET', url: '/r', headers: { authorization }, rawHeaders: ['Authorization', authorization] });

/** What a caller can tell of an error: its class, brand, code, status and its cause's class. */
function shape(error: unknown) {
  return {
    internal: error instanceof GuardInternalError,
    guardError: isGuardError(error),
    code: (error as { code?: unknown }).code,
    status: (error as { status?: unknown }).status,
    cause: ((error as { cause?: unknown }).cause as object | undefined)?.constructor?.name,
  };
}
const TYPED = { internal: true, guardError: true, code: 'ERR_INTERNAL', status: 500, cause: 'TypeError' };

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe.each([
  ['without a decision-trace subscriber', false],
  ['with a decision-trace subscriber', true],
] as const)('%s', (_label, subscribed) => {
  /** The errors the decision trace was told of. */
  let traced: unknown[] = [];
  const ignore = () => {};
  const handlers = { start: ignore, end: ignore, asyncStart: ignore, asyncEnd: ignore, error: (message: unknown) => void traced.push((message as DecisionTrace).error) };
  beforeEach(() => {
    seedStandardTenant(emulator());
    traced = [];
    if (subscribed) tracing.decision.subscribe(handlers);
  });
  afterEach(() => {
    if (subscribed) tracing.decision.unsubscribe(handlers);
  });

  it.each(REFUSED_CODES)('core.enforce() from cached grants: %s throws the typed 500 a decision without them rejects with', async (code) => {
    const records: DecisionRecord[] = [];
    const core = trackCore(createGuard({ ...emulator().guardOptions(), onDecision: (record) => void records.push(record) }));
    const req = requestOf(await bearerFor(emulator(), 'alice'));
    expect((await core.enforce(req, readReports)).decision?.allowed).toBe(true);
    const refused = routeSpec(() => code, 'reports:Read');

    const cached = thrownBy(() => core.enforce(req, refused));
    expect(shape(cached)).toEqual(TYPED);
    core.invalidateAll();
    const cold = await Promise.resolve()
      .then(() => core.enforce(req, refused))
      .then(() => undefined, (error: unknown) => error);
    expect(shape(cold)).toEqual(shape(cached));
    // No decision was made: onDecision heard of the first request only; the trace, when followed, of both failures.
    expect(records).toHaveLength(1);
    expect(traced).toEqual(subscribed ? [cached, cold] : []);
  });

  it.each([false, true])('over HTTP (Express, passErrors %s): from cached grants, ecs:undefined is the 500 ERR_INTERNAL', async (passErrors) => {
    const guard = trackExpress(createExpressGuard({ ...emulator().guardOptions(), passErrors }));
    const handed: unknown[] = [];
    const app = express();
    app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    app.get('/servers/:id', guard.requirePermission((req) => `ecs:${req.query.missing as string}`, 'reports:Read'), (_req, res) => void res.send('ran'));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      handed.push(error);
      res.status((error as { status?: number }).status ?? 599).json({ code: (error as { code?: unknown }).code });
    });
    const token = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/r').set('authorization', token)).status).toBe(200);

    const res = await request(app).get('/servers/1').set('authorization', token);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('ERR_INTERNAL');
    expect(handed.map(shape)).toEqual(passErrors ? [TYPED] : []);
    expect(traced.map(shape)).toEqual(subscribed ? [TYPED] : []);
  });
});
