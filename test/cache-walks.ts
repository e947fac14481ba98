/**
 * Counts the entries any lru-cache walk visits (entries(), keys(), values(), forEach(), find() and
 * their reverse forms) while installed: the work an invalidation costs, in the test's own terms
 * (never a timing).
 */
import { LRUCache } from 'lru-cache';
import { vi } from 'vitest';

const WALKS = ['entries', 'rentries', 'keys', 'rkeys', 'values', 'rvalues'] as const;
const CALLBACK_WALKS = ['forEach', 'rforEach', 'find'] as const;

export interface CacheWalks {
  /** Entries visited so far. */
  readonly visited: number;
  /** Walks started so far. */
  readonly walks: number;
  restore(): void;
}

export function countCacheWalks(): CacheWalks {
  const counts = { visited: 0, walks: 0 };
  const proto = LRUCache.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const spies = [
    ...WALKS.map((name) => {
      const original = proto[name] as (this: unknown) => Iterable<unknown>;
      return vi.spyOn(proto, name).mockImplementation(function* (this: unknown) {
        counts.walks++;
        for (const item of original.call(this)) {
          counts.visited++;
          yield item;
        }
      });
    }),
    ...CALLBACK_WALKS.map((name) => {
      const original = proto[name] as (this: unknown, fn: (...args: unknown[]) => unknown, ...rest: unknown[]) => unknown;
      return vi.spyOn(proto, name).mockImplementation(function (this: unknown, fn: unknown, ...rest: unknown[]) {
        counts.walks++;
        return original.call(this, (...args: unknown[]) => {
          counts.visited++;
          return (fn as (...a: unknown[]) => unknown)(...args);
        }, ...rest);
      });
    }),
  ];
  return {
    get visited() {
      return counts.visited;
    },
    get walks() {
      return counts.walks;
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
