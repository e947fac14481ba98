// Property: sharing grant sets never changes a decision. Random grant lists (served raw by the
// emulator), random users assigned to them (so several share one), random questions: one guard for
// everyone (sets shared) answers exactly as a fresh guard per user (nothing to share with) does,
// before and after one user moves to another list and is invalidated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/index.js';
import type { Guard } from '../../src/core/types.js';
import { useEmulator } from '../fixtures.js';

const emulator = useEmulator();

const code = fc.constantFrom('ecs:1', 'ecs:2', 'ecs:*', '*', 'books', 'Books');
const action = fc.constantFrom('ecs:Start', 'ecs:start', 'ecs:*', '*', 'books:read', 'read', '');
const entry = fc.record(
  {
    resourceCode: code,
    resourceType: fc.constantFrom('API', 'DATA', 'MENU', 'UI', 'BUTTON', 'weird'),
    actions: fc.oneof(fc.array(action, { maxLength: 3 }), fc.constant('["read"]'), fc.constant(7)),
    effect: fc.constantFrom('ALLOW', 'DENY', 'allow', 'maybe'),
    condition: fc.constantFrom([], [{ param: 'UserId', operator: 'StringEquals', value: 'u' }], 'junk'),
  },
  { requiredKeys: ['resourceCode'] },
);
const list = fc.array(entry, { maxLength: 6 });
const question = fc.record({
  resource: fc.constantFrom('ecs:1', 'ecs:2', 'ecs:3', 'books', 'Books', 'other'),
  action: fc.constantFrom('ecs:Start', 'ECS:START', 'books:read', 'read', 'write'),
  resourceType: fc.constantFrom(undefined, 'API', 'DATA'),
});
const scenario = fc
  .record({ lists: fc.array(list, { minLength: 1, maxLength: 3 }), users: fc.integer({ min: 2, max: 5 }), questions: fc.array(question, { minLength: 1, maxLength: 4 }) })
  .chain((s) =>
    fc.record({
      lists: fc.constant(s.lists),
      questions: fc.constant(s.questions),
      assigned: fc.array(fc.nat(s.lists.length - 1), { minLength: s.users, maxLength: s.users }),
      mover: fc.nat(s.users - 1),
      movesTo: fc.nat(s.lists.length - 1),
    }),
  );

type Question = { resource: string; action: string; resourceType: 'API' | 'DATA' | undefined };

const newGuard = () => createGuard({ ...emulator().guardOptions(), logger: false });

async function answer(guard: Guard, userId: string, q: Question) {
  const decision = await guard.check({ userId, resource: q.resource, action: q.action, ...(q.resourceType === undefined ? {} : { resourceType: q.resourceType }) });
  return { allowed: decision.allowed, reason: decision.reason, code: decision.grant?.code, effect: decision.grant?.effect, actions: decision.grant?.actions };
}

async function answersOf(guard: Guard, users: readonly string[], questions: readonly Question[]) {
  const out = [];
  for (const user of users) for (const q of questions) out.push(await answer(guard, user, q));
  return out;
}

/** Each user asked through a guard of their own: no other user to share a set with. */
async function alone(users: readonly string[], questions: readonly Question[]) {
  const out = [];
  for (const user of users) {
    const guard = newGuard();
    try {
      out.push(...(await answersOf(guard, [user], questions)));
    } finally {
      await guard.close();
    }
  }
  return out;
}

describe('sharing grant sets never changes a decision', () => {
  it('one guard for all users answers as a guard per user, before and after a user changes sets', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ lists, questions, assigned, mover, movesTo }) => {
        emulator().clearGrants();
        const users = assigned.map((_, u) => `user-${u}`);
        users.forEach((user, u) => emulator().setRawGrants(user, lists[assigned[u] as number] as unknown[]));
        const shared = newGuard();
        try {
          expect(await answersOf(shared, users, questions)).toEqual(await alone(users, questions));
          expect(shared.cacheStats().sets).toBeLessThanOrEqual(new Set(assigned).size);
          // One user moves to another list: invalidated, the others keep theirs.
          emulator().setRawGrants(users[mover] as string, lists[movesTo] as unknown[]);
          shared.invalidateUser(users[mover] as string);
          expect(await answersOf(shared, users, questions)).toEqual(await alone(users, questions));
        } finally {
          await shared.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
