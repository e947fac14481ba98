// Users whose GenAuth lists are the same share one cached grant set, so `req.genauth.decision.grant`
// is the very object other users' decisions are made from. An app that writes to any part of it (by
// mistake: a splice for a slice, a "redaction" before logging) must not change another user's answer:
// the write throws in the handler that made it, and the shared grant stays as GenAuth sent it.
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import type { Grant } from '../../src/policy/normalize-grant.js';
import { bearerFor, resetEmulator, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
let guard: ExpressGuard;

beforeEach(() => {
  resetEmulator(emulator());
  guard = createExpressGuard({ ...emulator().guardOptions(), logger: false });
});
afterEach(async () => {
  await guard.close();
});

/** [label, the app's write, the route bob then asks, the list both users get ($FIRST: the first user)]. */
type Case = [string, (grant: Grant) => unknown, 'GET' | 'DELETE', unknown[]];
const readFor = (user: string) => [
  { resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW', condition: [{ param: 'UserId', operator: 'StringEquals', value: user }] },
];
const readOnly = [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' }];

const CASES: Case[] = [
  ['empties the conditions (splice for slice)', (g) => (g.conditions as unknown[]).splice(0), 'GET', readFor('$FIRST')],
  ['rewrites a condition in place', (g) => Object.assign(g.conditions[0] as object, { operator: 'StringNotEquals' }), 'GET', readFor('$FIRST')],
  ['adds an action to the action set', (g) => (g.actionSet as Set<string>).add('reports:Delete'), 'DELETE', readOnly],
  ['adds an action prefix', (g) => (g.actionPrefixes as string[]).push('reports:'), 'DELETE', readOnly],
];

describe('the grant on req.genauth.decision is shared, and read-only all the way down', () => {
  it.each(CASES.map((c, i) => [...c, i] as const))('an app that %s changes no other user’s answer', async (_label, write, method, list, i) => {
    const [alice, bob] = [`alice-${i}`, `bob-${i}`];
    const entries = JSON.parse(JSON.stringify(list).replaceAll('$FIRST', alice));
    // Byte-identical lists: the two users share one interned grant set.
    emulator().setRawGrants(alice, entries);
    emulator().setRawGrants(bob, entries);
    let aliceGrant: Grant | undefined;
    let threw: unknown;
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (req, res) => {
      const grant = req.genauth?.decision?.grant as Grant;
      if (req.genauth?.identity.userId === alice) {
        aliceGrant = grant;
        try {
          write(grant);
        } catch (error) {
          threw = error;
        }
      }
      res.json({ same: grant === aliceGrant, grant });
    });
    app.delete('/reports', guard.requirePermission('reports', 'reports:Delete'), (_req, res) => void res.json({ deleted: true }));

    const first = await request(app).get('/reports').set('authorization', await bearerFor(emulator(), alice));
    expect(first.status).toBe(200);
    const asBob = request(app)[method === 'GET' ? 'get' : 'delete']('/reports').set('authorization', await bearerFor(emulator(), bob));
    expect((await asBob).status).toBe(403);
    // The write failed where it was made.
    expect(threw).toBeInstanceOf(TypeError);
    // Alice's grant is still as GenAuth sent it, and still shared.
    const again = await request(app).get('/reports').set('authorization', await bearerFor(emulator(), alice));
    expect(again.status).toBe(200);
    expect(again.body.same).toBe(true);
    expect(again.body.grant).toMatchObject({ code: 'reports', actions: ['reports:Read'], conditions: entries[0].condition ?? [] });
  });
});
