/** A user's invalidation count, kept while someone holds it. */
interface Counter {
  value: number;
  holders: number;
  /** The last failure of a load of the user while the counter was held; undefined after a success. */
  failure: { error: unknown } | undefined;
}

/** What `begin` saw: compare it with `current` when the load or the wait is over. */
export interface GenerationMark {
  readonly userId: string;
  readonly counter: Counter;
  readonly seen: number;
  readonly seenAll: number;
  readonly seenFailure: { error: unknown } | undefined;
}

/**
 * Invalidation counters: one per user plus one for everyone. A load, or a request waiting on one,
 * takes a mark when it begins; if the user (or everyone) was invalidated since, its answer may predate
 * the change, so it is neither stored nor used. A user's counter exists only while a mark on it is
 * held, so memory is bounded by the loads and waits in flight, not by every user ever invalidated.
 */
export class Generations {
  private all = 0;
  private readonly users = new Map<string, Counter>();

  begin(userId: string): GenerationMark {
    let counter = this.users.get(userId);
    if (counter === undefined) this.users.set(userId, (counter = { value: 0, holders: 0, failure: undefined }));
    counter.holders++;
    return { userId, counter, seen: counter.value, seenAll: this.all, seenFailure: counter.failure };
  }

  /** A load of the mark's user ended: `failure` when it failed, undefined when it succeeded. */
  settled(mark: GenerationMark, failure: { error: unknown } | undefined): void {
    mark.counter.failure = failure;
  }

  /**
   * The failure of a load of the mark's user that ended while the mark was held: how a request that
   * joined a load learns that it failed when lru-cache hands joiners nothing but `undefined`.
   */
  failureSince(mark: GenerationMark): { error: unknown } | undefined {
    const failure = mark.counter.failure;
    return failure !== mark.seenFailure ? failure : undefined;
  }

  /** No invalidation of the mark's user, nor of everyone, since it was taken. */
  current(mark: GenerationMark): boolean {
    return mark.counter.value === mark.seen && this.all === mark.seenAll;
  }

  /** Lets go of a mark (once per `begin`). */
  end(mark: GenerationMark): void {
    if (--mark.counter.holders === 0 && this.users.get(mark.userId) === mark.counter) this.users.delete(mark.userId);
  }

  invalidate(userId: string): void {
    const counter = this.users.get(userId);
    if (counter !== undefined) counter.value++;
  }

  invalidateAll(): void {
    this.all++;
  }

  /** Users with a mark held (tests). */
  get size(): number {
    return this.users.size;
  }
}
