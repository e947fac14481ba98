/**
 * Read-only parts for a grant: a grant is shared by every decision made from its set, and a
 * cached set by every user whose list is the same, so an app that writes to `decision.grant` (any part
 * of it) must throw rather than change another user's answer. Made once, when a grant is normalized;
 * the decision path only reads them.
 */
const REFUSED = 'genauth-guard: a grant is read-only (it is shared by every decision made from its set)';

/**
 * A Set that refuses `add`, `delete` and `clear` once frozen (`Object.freeze` alone leaves a Set's
 * entries writable). Reads are the built-in ones.
 */
export class ReadOnlySet<T> extends Set<T> {
  override add(value: T): this {
    if (Object.isFrozen(this)) throw new TypeError(REFUSED);
    return super.add(value);
  }

  override delete(value: T): boolean {
    if (Object.isFrozen(this)) throw new TypeError(REFUSED);
    return super.delete(value);
  }

  override clear(): void {
    if (Object.isFrozen(this)) throw new TypeError(REFUSED);
    super.clear();
  }
}

/** The values of `values` in a frozen {@link ReadOnlySet}. */
export function readOnlySet<T>(values: Iterable<T>): ReadonlySet<T> {
  const set = new ReadOnlySet<T>();
  for (const value of values) set.add(value);
  return Object.freeze(set);
}

/** `list` itself when already frozen (the shared empty lists), else a frozen copy. */
export function frozenList<T>(list: readonly T[]): readonly T[] {
  return Object.isFrozen(list) ? list : Object.freeze(list.slice());
}

/**
 * A deep, frozen copy of JSON-like data (a grant's conditions): arrays and objects copied (own
 * enumerable string keys, `__proto__` kept as a plain key), everything else as is. The caller's objects
 * are never frozen: `indexGrants()` may be given the app's own entries. A cycle is copied as a cycle.
 */
export function frozenCopy<T>(value: T, copies: Map<object, unknown> = new Map()): T {
  if (typeof value !== 'object' || value === null) return value;
  const known = copies.get(value);
  if (known !== undefined) return known as T;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(frozenCopy(item, copies));
    return Object.freeze(copy) as T;
  }
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    // defineProperty: a `__proto__` key stays an own data property, never the prototype.
    Object.defineProperty(copy, key, { value: frozenCopy(item, copies), enumerable: true, writable: true, configurable: true });
  }
  return Object.freeze(copy) as T;
}
