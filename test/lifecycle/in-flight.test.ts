// close() with requests in flight, and close() itself called twice, at once, early or during warm-up.
// Each request in flight gets an answer (a 503: a closed guard decides nothing, not even a request it
// was deciding when it closed), never a hang and never an unhandled rejection (vitest fails the run on
// one); close() resolves. What a late answer leaves behind (nothing): late-answers.test.ts. Express over real HTTP; the other adapters
// share the core (after-close.test.ts and exits.test.ts run them all).
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { GuardNotReadyError } from '../../src/core/readiness.js';
import { isGuardError } from '../../src/errors.js';
import { RESOURCES, bearerFor, closeAfterEach, resetToAliceReading, sleep, until, useEmulator } from '../fixtures.js';

const JWKS = '/oidc/.well-known/jwks.json';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

/** A guard over the emulator and an app with one route; `lines` collects what it logs. */
function appWith(extra: Partial<ExpressGuardOptions> = {}) {
  const lines: string[] = [];
  const guard = track(createExpressGuard({ ...emulator().guardOptions(), logger: { warn: (line) => void lines.push(line) }, ...extra } as ExpressGuardOptions));
  const app = express();
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return { guard, app, lines };
}

const refusedWith = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('requests in flight when the guard closes', () => {
  it('waiting on the key set (JWKS hanging): a 503 ERR_KEYS_UNAVAILABLE', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith();
    const alice = await bearerFor(emulator(), 'alice');
    emulator().fault({ kind: 'hang', path: JWKS });
    const answer = request(app).get('/reports').set('authorization', alice).then((res) => res);
    await until(() => emulator().callCount(JWKS) === 1, 5000, 'the key set asked for');
    await guard.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' });
    emulator().clearFaults();
  });

  it('authentication only, the key set arriving after the close: a 503, not the identity', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith();
    app.get('/me', guard.authenticate(), (req, res) => void res.json({ user: req.genauth?.identity.userId }));
    const alice = await bearerFor(emulator(), 'alice');
    emulator().fault({ kind: 'latency', ms: 300, path: JWKS, times: 1 });
    const answer = request(app).get('/me').set('authorization', alice).then((res) => res);
    await until(() => emulator().callCount(JWKS) === 1, 5000, 'the key set asked for');
    await guard.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  it('waiting on GenAuth for grants: close() waits for the call, the request gets a 503', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith({ genauth: { ...emulator().guardOptions().genauth, timeout: 1000 } });
    const alice = await bearerFor(emulator(), 'alice');
    await guard.ready();
    emulator().fault({ kind: 'hang', path: RESOURCES });
    const answer = request(app).get('/reports').set('authorization', alice).then((res) => res);
    await until(() => emulator().callCount(RESOURCES) === 1, 5000, 'the grants asked for');
    await guard.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
    expect(emulator().callCount(RESOURCES)).toBe(1); // no retry after the close
    emulator().clearFaults();
  });

  it('a GenAuth answer on its way when the guard closes is not used: a 503', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith();
    const alice = await bearerFor(emulator(), 'alice');
    await guard.ready();
    emulator().fault({ kind: 'latency', ms: 300, path: RESOURCES, times: 1 });
    const answer = request(app).get('/reports').set('authorization', alice).then((res) => res);
    await until(() => emulator().callCount(RESOURCES) === 1, 5000, 'the grants asked for');
    await guard.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'ERR_PERMISSIONS_UNAVAILABLE' });
  });

  it('waiting on conditions.context: once it answers, a 503 (not its decision); its rejection is a 500', async () => {
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'], condition: [{ param: 'Country', operator: 'StringEquals', value: 'NZ' }] }]);
    let release: (value: Record<string, unknown>) => void = () => {};
    let fail: (error: Error) => void = () => {};
    let asked = 0;
    const context = () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        asked++;
        release = resolve;
        fail = reject;
      });
    const alice = await bearerFor(emulator(), 'alice');
    for (const [settle, status] of [[() => release({ Country: 'NZ' }), 503], [() => fail(new Error('the database was closed')), 500]] as const) {
      asked = 0;
      const { guard, app } = appWith({ conditions: { context } });
      const answer = request(app).get('/reports').set('authorization', alice).then((res) => res);
      await until(() => asked === 1, 5000, 'the context asked for');
      await guard.close();
      settle();
      expect((await answer).status).toBe(status);
    }
  });
});

describe('check() and explain() in flight when the guard closes', () => {
  /** A conditions.context that answers when told: the wait a decision on conditional grants makes. */
  function heldContext() {
    const held = { asked: 0, release: (_value: Record<string, unknown>) => {} };
    const context = () =>
      new Promise<Record<string, unknown>>((resolve) => {
        held.asked++;
        held.release = resolve;
      });
    return { held, context };
  }
  const ASKED = { userId: 'alice', resource: 'reports', action: 'reports:Read' };

  it.each(['check', 'explain'] as const)('%s() waiting on conditions.context: once it answers, the closed guard\'s 503 error, not its decision', async (method) => {
    emulator().setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'], condition: [{ param: 'Country', operator: 'StringEquals', value: 'NZ' }] }]);
    const records: unknown[] = [];
    const ask = (guard: ExpressGuard) => (method === 'check' ? guard.check(ASKED) : guard.explain(ASKED));

    // Open, the same question is allowed once the context answers: what a closed guard must not hand out.
    const open = heldContext();
    const openGuard = appWith({ conditions: { context: open.context } }).guard;
    const allowed = ask(openGuard);
    await until(() => open.held.asked === 1, 5000, 'the context asked for');
    open.held.release({ Country: 'NZ' });
    expect(await allowed).toMatchObject({ allowed: true });

    const closing = heldContext();
    const { guard } = appWith({ conditions: { context: closing.context }, onDecision: (record) => void records.push(record) });
    const answer = refusedWith(ask(guard));
    await until(() => closing.held.asked === 1, 5000, 'the context asked for');
    await guard.close();
    closing.held.release({ Country: 'NZ' });
    const error = await answer;
    // The same refusal as a call made after close(), and as the closed guard's 503 to a request.
    const after = await refusedWith(ask(guard));
    expect(isGuardError(error)).toBe(true);
    expect(error).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE', cause: { kind: 'closed' } });
    expect(after).toMatchObject({ status: 503, code: 'ERR_PERMISSIONS_UNAVAILABLE', cause: { kind: 'closed' } });
    // No decision was made, so none is told.
    expect(records).toEqual([]);
  });
});

describe('close() itself', () => {
  it('twice, and twice at once: every call resolves', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith();
    await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    await Promise.all([guard.close(), guard.close(), guard.core.close()]);
    await guard.close();
  });

  it('before the first request: that request is a 503, and nothing is asked of GenAuth', async () => {
    resetToAliceReading(emulator());
    const { guard, app } = appWith();
    await guard.close();
    const res = await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'));
    expect(res.status).toBe(503);
    expect(emulator().calls).toEqual([]);
  });

  it('while the warm-up runs (GenAuth hanging): close() resolves, ready() rejects with closed, nothing is logged', async () => {
    resetToAliceReading(emulator());
    emulator().fault({ kind: 'hang', path: RESOURCES });
    const { guard, lines } = appWith({ warm: { users: ['alice'] }, genauth: { ...emulator().guardOptions().genauth, timeout: 1000 } });
    const ready = refusedWith(guard.ready());
    await until(() => emulator().callCount(RESOURCES) === 1, 5000, 'the warm-up started');
    await guard.close();
    const error = await ready;
    expect(error).toBeInstanceOf(GuardNotReadyError);
    expect((error as GuardNotReadyError).reasons).toEqual([expect.objectContaining({ kind: 'closed', option: '' })]);
    await sleep(50);
    expect(lines).toEqual([]);
    emulator().clearFaults();
  });
});
