import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRetryBudget, RETRY_BUDGET_TOKENS } from '../../src/genauth/retry-budget.js';

function budgetAt(start = 1_000_000, ratio = 0.2, minPerSecond = 1) {
  const clock = { now: start };
  const budget = createRetryBudget({ ratio, minPerSecond, clock: { now: () => clock.now } });
  return { budget, clock };
}

/** `loads` first tries fail at once; each one is retried if the budget allows, and the retry fails too. */
function outageBurst(budget: ReturnType<typeof createRetryBudget>, loads: number, retries = 2): number {
  let calls = 0;
  for (let i = 0; i < loads; i++) {
    for (let attempt = 0; ; attempt++) {
      calls++;
      budget.failed();
      if (attempt >= retries || !budget.canRetry()) break;
    }
  }
  return calls;
}

describe('retry budget', () => {
  it('a fresh budget retries a lone failure, twice', () => {
    const { budget } = budgetAt();
    budget.failed();
    expect(budget.canRetry()).toBe(true);
    budget.failed();
    expect(budget.canRetry()).toBe(true);
  });

  it('an outage burst of 20 loads makes about 1.2 calls per load, whatever came before', () => {
    const cold = budgetAt().budget;
    expect(outageBurst(cold, 20)).toBeLessThanOrEqual(24);
    const warm = budgetAt().budget;
    for (let i = 0; i < 10_000; i++) warm.answered(); // a busy, healthy past buys no more
    expect(outageBurst(warm, 20)).toBeLessThanOrEqual(24);
  });

  it('stays shut while calls keep failing, even as seconds pass', () => {
    const { budget, clock } = budgetAt();
    outageBurst(budget, 20);
    for (let second = 0; second < 30; second++) {
      clock.now += 1000;
      for (let i = 0; i < 5; i++) budget.failed(); // five failed first tries a second
      expect(budget.canRetry()).toBe(false);
    }
  });

  it('opens again as calls succeed', () => {
    const { budget } = budgetAt();
    outageBurst(budget, 20);
    expect(budget.canRetry()).toBe(false);
    let answered = 0;
    while (!budget.canRetry()) {
      budget.answered();
      answered++;
    }
    // Half the budget back at `ratio` (0.2) a call: a little over 25 answered calls.
    expect(answered).toBeGreaterThan(20);
    expect(answered).toBeLessThanOrEqual(RETRY_BUDGET_TOKENS / 2 / 0.2 + 1);
  });

  it('opens again with time at minPerSecond (the floor), and not with minPerSecond 0', () => {
    const { budget, clock } = budgetAt();
    outageBurst(budget, 20);
    clock.now += 6000;
    expect(budget.canRetry()).toBe(true);
    const closed = budgetAt(1_000_000, 0.2, 0);
    outageBurst(closed.budget, 20);
    closed.clock.now += 3_600_000;
    expect(closed.budget.canRetry()).toBe(false);
  });

  it('a clock that goes back neither adds tokens nor breaks the budget', () => {
    const { budget, clock } = budgetAt();
    outageBurst(budget, 20);
    clock.now -= 60_000;
    expect(budget.canRetry()).toBe(false);
    clock.now += 6000; // from the earlier reading: six seconds of refill
    expect(budget.canRetry()).toBe(true);
  });

  it('property: while at most 1 call in 6 fails, every failure may be retried', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 5, max: 50 }), { minLength: 1, maxLength: 200 }), (gaps) => {
        const { budget } = budgetAt(0, 0.2, 0); // no time refill: the ratio alone keeps it open
        for (const gap of gaps) {
          for (let i = 0; i < gap; i++) budget.answered();
          budget.failed();
          if (!budget.canRetry()) return false;
        }
        return true;
      }),
    );
  });

  it('property: in an outage, retries are at most half the budget plus minPerSecond a second', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ loads: fc.integer({ min: 0, max: 40 }), ms: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 50 }),
        (steps) => {
          const { budget, clock } = budgetAt();
          let loads = 0;
          let calls = 0;
          for (const step of steps) {
            clock.now += step.ms;
            loads += step.loads;
            calls += outageBurst(budget, step.loads);
          }
          const seconds = (clock.now - 1_000_000) / 1000;
          return calls - loads <= RETRY_BUDGET_TOKENS / 2 + seconds * 1 + 1;
        },
      ),
    );
  });
});
