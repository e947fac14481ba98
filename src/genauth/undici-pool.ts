import { createRequire } from 'node:module';
import type { Pool } from 'undici';

/** Where undici 7 keeps its Pool, relative to the package: tried before the entry point. */
export const POOL_FILE = 'undici/lib/dispatcher/pool.js';

type PoolClass = typeof Pool;

/**
 * undici's Pool, loaded from its own file. undici's entry point also loads fetch, WebSocket,
 * EventSource, the mock agents and the cache stores, which the guard never uses: 4.7 MiB of heap in
 * every process that imports an adapter, against 1.5 MiB for the Pool with its client, parser and
 * connector. A smaller heap is cheaper to mark on every collection (bench/RESULTS.md: a few percent
 * of a cached Express request). The file is not undici's documented API (undici has no exports map, so
 * it can be required); when it is gone, is not the Pool, or cannot be required at all (an app bundled
 * into one file, with no node_modules beside it), undici's entry point serves, by a dynamic import a
 * bundler sees and includes: a moved file costs memory, never a request. The guard calls `dispatch()`
 * only, which the Pool has without the entry point's `request()` family attached.
 */
export async function loadPool(load: NodeJS.Require | undefined = requireHere(), file: string = POOL_FILE): Promise<PoolClass> {
  try {
    const candidate: unknown = load?.(file);
    if (isPoolClass(candidate)) return candidate;
  } catch {
    // Not where undici 7 keeps it, or nothing to require from: the entry point below.
  }
  return (await import('undici')).Pool;
}

/** A require from this file, or undefined where there is none to make (a bundle without import.meta.url). */
function requireHere(): NodeJS.Require | undefined {
  try {
    return createRequire(import.meta.url);
  } catch {
    return undefined;
  }
}

function isPoolClass(value: unknown): value is PoolClass {
  return typeof value === 'function' && value.name === 'Pool' && typeof (value.prototype as { dispatch?: unknown }).dispatch === 'function';
}
