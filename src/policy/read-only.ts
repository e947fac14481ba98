/**
 * Read-only parts for a grant: a grant is shared by every decision made from its set, and a
 * cached set by every user whose list is the same, so an app that writes to `decision.grant` (any part
 * of it) must throw rather than change another user's answer. Made once, when a grant is normalized;
 * the decision path only reads them.
 */
const REFUSED = 'genauth-guard: a grant is read-only (it is shared by every decision made from its set)';

/**
 * A read-only set: its values are in a private Set that nothing outside can reach, so no write gets
 * through, not `add` on it nor `Set.prototype.add.call(set, ...)` (which throws: it is no Set), where
 * a frozen Set subclass still let the built-in methods write its entries. Reads are the Set's own,
 * one private field away; `add`, `delete` and `clear` throw. JSON gives its values as an array.
 */
export class ReadOnlySet<T> implements ReadonlySet<T> {
  readonly #values: Set<T>;

  constructor(values: Iterable<T>) {
    this.#values = new Set(values);
    Object.freeze(this);
  }

  has(value: T): boolean {
    return this.#values.has(value);
  }

  get size(): number {
    return this.#values.size;
  }

  forEach(callback: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const value of this.#values) callback.call(thisArg, value, value, this);
  }

  entries(): SetIterator<[T, T]> {
    return this.#values.entries();
  }

  keys(): SetIterator<T> {
    return this.#values.values();
  }

  values(): SetIterator<T> {
    return this.#values.values();
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.#values.values();
  }

  get [Symbol.toStringTag](): string {
    return 'ReadOnlySet';
  }

  /** Always throws: the set is read-only. */
  add(_value: T): never {
    throw new TypeError(REFUSED);
  }

  /** Always throws: the set is read-only. */
  delete(_value: T): never {
    throw new TypeError(REFUSED);
  }

  /** Always throws: the set is read-only. */
  clear(): never {
    throw new TypeError(REFUSED);
  }

  /** The values, as an array (what `JSON.stringify` writes). */
  toJSON(): T[] {
    return [...this.#values];
  }
}

/** The values of `values` in a {@link ReadOnlySet}. */
export function readOnlySet<T>(values: Iterable<T>): ReadonlySet<T> {
  return new ReadOnlySet(values);
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
