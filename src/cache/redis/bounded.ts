/** Every Redis call of the tier has a short deadline: a slow Redis costs a request `redisTimeout`, no more. */

/** Why a Redis call gave no answer the tier can use. */
export type RedisFailure = 'timeout' | 'error' | 'not-ready';

/** A Redis call that failed, timed out or was skipped (the client was not ready). Carries no Redis text. */
export class RedisTierError extends Error {
  constructor(readonly reason: RedisFailure) {
    super(`genauth-guard: Redis call ${reason === 'timeout' ? 'timed out' : reason === 'not-ready' ? 'skipped: the client is not ready' : 'failed'}`);
    this.name = 'RedisTierError';
  }
}

/**
 * Runs `call` unless the client says it is not ready (a command would only wait in node-redis's
 * offline queue), and rejects with a RedisTierError when it fails or takes longer than `ms` (real time,
 * like the timers that end a slow GenAuth call). A call that answers late is ignored: each of the
 * tier's writes is checked by Redis itself when it runs (see scripts.ts), whenever that is.
 */
export function bounded<T>(client: { readonly isReady?: boolean }, ms: number, call: () => Promise<T>): Promise<T> {
  if (client.isReady === false) return Promise.reject(new RedisTierError('not-ready'));
  return withinDeadline(ms, call);
}

/** `call`, rejected with a RedisTierError when it fails or takes longer than `ms` (real time). */
export function withinDeadline<T>(ms: number, call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisTierError('timeout')), ms);
    let started: Promise<T>;
    try {
      started = call();
    } catch {
      started = Promise.reject(new Error('call threw'));
    }
    started.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        reject(new RedisTierError('error'));
      },
    );
  });
}

/** The reason of a tier failure, for warnings and events. */
export function failureOf(error: unknown): RedisFailure {
  return error instanceof RedisTierError ? error.reason : 'error';
}
