import { describe, expect, it } from 'vitest';
import { Generations } from '../../src/cache/generations.js';

describe('Generations', () => {
  it('a mark stays current until its user, or everyone, is invalidated', () => {
    const generations = new Generations();
    const alice = generations.begin('alice');
    const bob = generations.begin('bob');
    expect([generations.current(alice), generations.current(bob)]).toEqual([true, true]);
    generations.invalidate('alice');
    expect([generations.current(alice), generations.current(bob)]).toEqual([false, true]);
    const again = generations.begin('alice'); // begun after the invalidation
    expect(generations.current(again)).toBe(true);
    generations.invalidateAll();
    expect([generations.current(again), generations.current(bob)]).toEqual([false, false]);
  });

  it('keeps a user only while a mark on them is held', () => {
    const generations = new Generations();
    generations.invalidate('nobody'); // nothing held: nothing kept
    expect(generations.size).toBe(0);
    const load = generations.begin('alice');
    const wait = generations.begin('alice');
    expect(generations.size).toBe(1);
    generations.invalidate('alice');
    generations.end(load);
    expect(generations.size).toBe(1);
    expect(generations.current(wait)).toBe(false); // the invalidation is still seen by the other holder
    generations.end(wait);
    expect(generations.size).toBe(0);
    expect(generations.current(generations.begin('alice'))).toBe(true);
  });

  it('a failure counts for the marks held when it happened, not for later ones', () => {
    const generations = new Generations();
    const waiter = generations.begin('alice');
    const load = generations.begin('alice');
    expect(generations.failureSince(waiter)).toBeUndefined();
    const down = { error: new Error('down') };
    generations.settled(load, down);
    generations.end(load);
    expect(generations.failureSince(waiter)).toBe(down);
    const later = generations.begin('alice'); // the counter is still held: it sees the failure as old
    expect(generations.failureSince(later)).toBeUndefined();
    generations.settled(later, undefined); // a success clears it
    expect(generations.failureSince(waiter)).toBeUndefined();
  });
});
