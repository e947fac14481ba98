/**
 * A `logger` whose `warn` throws, over real HTTP: the warning is lost, never the answer. Operator
 * warnings are written from inside a request (onDecision's failure, a token refused on its issuer
 * while none has verified), so what the logger throws must not reach the request.
 */
import express from 'express';
import request from 'supertest';
import { beforeEach, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { GuardOptions } from '../../src/options.js';
import { bearerFor, closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => resetToAliceReading(emulator()));

let warnCalls = 0;
const throwingLogger = {
  warn(): void {
    warnCalls++;
    throw new Error('the log sink is down');
  },
};

function appWith(options: Partial<GuardOptions>): express.Express {
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: throwingLogger, ...options }));
  const app = express();
  app.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  app.get('/w', guard.requirePermission('reports', 'reports:Write'), (_req, res) => void res.send('ok'));
  return app;
}

it('onDecision throwing, then the logger throwing as it is told: the answers stand (200, 403)', async () => {
  warnCalls = 0;
  const app = appWith({
    onDecision: () => {
      throw new Error('the callback broke');
    },
  });
  const alice = await bearerFor(emulator(), 'alice');
  expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
  expect((await request(app).get('/w').set('authorization', alice)).status).toBe(403);
  expect(warnCalls).toBe(1);
});

it('a token of another issuer, logged as a set-up problem by a logger that throws: still a 401', async () => {
  warnCalls = 0;
  const app = appWith({});
  const foreign = await bearerFor(emulator(), 'alice', { issuer: 'https://other.example/oidc' });
  const response = await request(app).get('/r').set('authorization', foreign);
  expect(response.status).toBe(401);
  expect(warnCalls).toBe(1);
  expect((await request(app).get('/r').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
});

it('an async logger whose warn rejects (a remote log sink that is down): the answers stand, no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  let calls = 0;
  try {
    const app = appWith({
      logger: {
        warn: async () => {
          calls++;
          throw new Error('the log sink is down');
        },
      },
      onDecision: () => {
        throw new Error('the callback broke');
      },
    });
    const foreign = await bearerFor(emulator(), 'alice', { issuer: 'https://other.example/oidc' });
    expect((await request(app).get('/r').set('authorization', foreign)).status).toBe(401);
    const alice = await bearerFor(emulator(), 'alice');
    expect((await request(app).get('/r').set('authorization', alice)).status).toBe(200);
    // Unhandled rejections are told after a macrotask: wait one so a rejection left unhandled is seen.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(calls).toBe(2);
  expect(unhandled).toEqual([]);
});
