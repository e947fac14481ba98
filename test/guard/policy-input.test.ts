// How GenAuth's grant entries are read, over real HTTP: an Express app with the guard, GenAuth served by
// the emulator. Each test serves one unusual shape (raw, as GenAuth could send it) and checks that it
// never grants more than it says: a second request, answered from the cached grants on the guard's
// fast path, must decide the same way without asking GenAuth again.
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { RESOURCES, bearerFor, useEmulator, resetEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guard: ExpressGuard;
let app: express.Express;
let api: express.Express;

beforeEach(() => {
  const e = emulator();
  resetEmulator(e);
  guard = createExpressGuard({ ...e.guardOptions(), cache: { errorTtl: 0 } });
  const ok = (_req: express.Request, res: express.Response) => void res.json({ ok: true });
  app = express();
  app.post('/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), ok);
  app.get('/reports', guard.requirePermission('reports', 'reports:Read'), ok);
  app.get('/books', guard.requirePermission('books', 'books:Read'), ok);
  app.get('/books/lower', guard.requirePermission('books', 'books:read'), ok);
  app.get('/typed/data', guard.requirePermission('ecs:1', 'ecs:Start', { resourceType: 'DATA' }), ok);
  app.get('/typed/none', guard.requirePermission('ecs:1', 'ecs:Start'), ok);
  api = express();
  api.use(guard.api());
  api.get('/api/v1/things', ok);
});
afterEach(async () => {
  await guard.close();
});

/** Status of `times` identical requests by `user` (the later ones decide from the cached grants). */
async function statuses(target: express.Express, method: 'get' | 'post', path: string, user = 'alice', times = 2): Promise<number[]> {
  const auth = await bearerFor(emulator(), user);
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push((await request(target)[method](path).set('authorization', auth)).status);
  return out;
}

// GenAuth's documented example entry (get-user-authorized-resources): `condition` is one object.
const documentedExample = {
  resourceCode: 'ecs:1',
  description: 'Server',
  condition: { param: 'AppId', operator: 'StringEquals', value: '1' },
  resourceType: 'API',
  apiIdentifier: '/api/v1/example',
  actions: '["ecs:Start","ecs:Stop"]',
  effect: 'ALLOW',
};

describe('condition given as one object (defect 1: fail-open)', () => {
  it('a conditional ALLOW whose condition cannot be evaluated grants nothing, also from the cache', async () => {
    emulator().setRawGrants('alice', [documentedExample]);
    expect(await statuses(app, 'post', '/servers/1/start')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('the one condition is evaluated: it allows when it holds and not otherwise', async () => {
    const grant = { ...documentedExample, condition: { param: 'UserId', operator: 'StringEquals', value: 'alice' } };
    emulator().setRawGrants('alice', [grant]);
    emulator().setRawGrants('bob', [grant]);
    expect(await statuses(app, 'post', '/servers/1/start', 'alice')).toEqual([200, 200]);
    expect(await statuses(app, 'post', '/servers/1/start', 'bob')).toEqual([403, 403]);
  });

  it.each([
    ['a string', 'UserId=alice'],
    ['a number', 7],
    ['an array holding a non-object', ['UserId']],
    ['an array holding null', [null]],
    ['an item without operator', { param: 'UserId', value: 'alice' }],
    ['an item without param', [{ operator: 'StringEquals', value: 'alice' }]],
    ['an item with a non-string operator', { param: 'UserId', operator: 7, value: 'alice' }],
    ['an item without value', { param: 'UserId', operator: 'StringNotEquals' }],
  ])('a condition that is %s: an ALLOW grants nothing, a DENY applies', async (_name, condition) => {
    emulator().setRawGrants('alice', [{ ...documentedExample, condition }]);
    expect(await statuses(app, 'post', '/servers/1/start')).toEqual([403, 403]);
    emulator().setRawGrants('bob', [
      { ...documentedExample, condition: [] },
      { ...documentedExample, effect: 'DENY', condition },
    ]);
    expect(await statuses(app, 'post', '/servers/1/start', 'bob')).toEqual([403, 403]);
  });

  it('absent, null and [] mean no conditions', async () => {
    const { condition: _dropped, ...plain } = documentedExample;
    emulator().setRawGrants('alice', [plain]);
    emulator().setRawGrants('bob', [{ ...plain, condition: null }]);
    emulator().setRawGrants('carol', [{ ...plain, condition: [] }]);
    for (const user of ['alice', 'bob', 'carol']) expect(await statuses(app, 'post', '/servers/1/start', user)).toEqual([200, 200]);
  });
});

describe('list given as one object (defect 2)', () => {
  it('is read as a list of one entry', async () => {
    const { condition: _dropped, ...entry } = documentedExample;
    emulator().addUser('alice');
    emulator().fault({ kind: 'respond', status: 200, body: { statusCode: 200, data: { totalCount: 1, list: entry } }, path: RESOURCES });
    expect(await statuses(app, 'post', '/servers/1/start')).toEqual([200, 200]);
    expect(await statuses(app, 'post', '/servers/2/start')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });
});

describe('effect missing (defect 3)', () => {
  it.each([
    ['missing', {}],
    ['null', { effect: null }],
  ])('a grant whose effect is %s never grants', async (_name, extra) => {
    emulator().setRawGrants('alice', [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], ...extra }]);
    expect(await statuses(app, 'get', '/reports')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('and it overrides an ALLOW, like any effect that is not ALLOW', async () => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'reports', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
      { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'] },
    ]);
    expect(await statuses(app, 'get', '/reports')).toEqual([403, 403]);
  });
});

describe('a DENY naming no action (defect 4)', () => {
  it.each([
    ['[]', []],
    ['"[]"', '[]'],
    ['[""]', ['']],
  ])('actions %s denies every action on its code', async (_name, actions) => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'reports', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
      { resourceCode: 'reports', resourceType: 'DATA', actions, effect: 'DENY' },
    ]);
    expect(await statuses(app, 'get', '/reports')).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('an ALLOW naming no action grants nothing', async () => {
    emulator().setRawGrants('alice', [{ resourceCode: 'reports', resourceType: 'DATA', actions: [], effect: 'ALLOW' }]);
    expect(await statuses(app, 'get', '/reports')).toEqual([403, 403]);
  });
});

describe('DENY actions match whatever their case (defect 5)', () => {
  it.each([
    ['books:read', '/books'],
    ['BOOKS:READ', '/books/lower'],
    ['Books:*', '/books/lower'],
    ['BOOKS:*', '/books'],
  ])('a DENY of %s denies %s', async (denied, path) => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'books', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
      { resourceCode: 'books', resourceType: 'DATA', actions: [denied], effect: 'DENY' },
    ]);
    expect(await statuses(app, 'get', path)).toEqual([403, 403]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('in API mode too: a DENY of READ denies GET (the method maps to read)', async () => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'things', resourceType: 'API', apiIdentifier: '/api/v1/*', actions: ['read'], effect: 'ALLOW' },
      { resourceCode: 'things', resourceType: 'API', apiIdentifier: '/api/v1/things', actions: ['READ'], effect: 'DENY' },
    ]);
    expect(await statuses(api, 'get', '/api/v1/things')).toEqual([403, 403]);
  });

  it('ALLOW actions still match exactly', async () => {
    emulator().setRawGrants('alice', [{ resourceCode: 'books', resourceType: 'DATA', actions: ['books:read'], effect: 'ALLOW' }]);
    expect(await statuses(app, 'get', '/books/lower')).toEqual([200, 200]);
    expect(await statuses(app, 'get', '/books')).toEqual([403, 403]);
  });
});

describe('an unknown resourceType (defect 6)', () => {
  const foo = { resourceCode: 'ecs:1', resourceType: 'FOO', apiIdentifier: '/api/v1/things', actions: ['*'] };

  it('an ALLOW matches no route that restricts the type, and never counts in API mode', async () => {
    emulator().setRawGrants('alice', [{ ...foo, effect: 'ALLOW' }]);
    expect(await statuses(app, 'get', '/typed/data')).toEqual([403, 403]);
    expect(await statuses(api, 'get', '/api/v1/things')).toEqual([403, 403]);
    // A route that does not restrict the type matches the code whatever its type.
    expect(await statuses(app, 'get', '/typed/none')).toEqual([200, 200]);
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it('a DENY still applies where the route does not restrict the type', async () => {
    emulator().setRawGrants('alice', [
      { resourceCode: 'ecs:1', resourceType: 'DATA', actions: ['*'], effect: 'ALLOW' },
      { ...foo, effect: 'DENY' },
    ]);
    expect(await statuses(app, 'get', '/typed/none')).toEqual([403, 403]);
  });

  it('a missing resourceType is unknown too', async () => {
    emulator().setRawGrants('alice', [{ resourceCode: 'ecs:1', actions: ['*'], effect: 'ALLOW' }]);
    expect(await statuses(app, 'get', '/typed/data')).toEqual([403, 403]);
    expect(await statuses(app, 'get', '/typed/none')).toEqual([200, 200]);
  });
});
