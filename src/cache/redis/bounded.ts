/** Every Redis call of the tier has a short deadline: a slow Redis costs a request `redisTimeout`, no more. */

/** Why a Redis call gave no answer the tier can use; `denied`: Redis answered NOPERM (its ACL refuses the user the command, key or channel). */
export type RedisFailure = 'timeout' | 'error' | 'not-ready' | 'denied';

/** The commands the tier runs, as a set-up problem names them when the ACL refuses one. */
export type TierCommand = 'GET' | 'EVAL' | 'PUBLISH' | 'SUBSCRIBE';

const DESCRIPTIONS: Record<RedisFailure, string> = {
  timeout: 'timed out',
  'not-ready': 'skipped: the client is not ready',
  error: 'failed',
  denied: "refused by Redis's ACL (NOPERM)",
};

/** A Redis call that failed, timed out or was skipped (the client was not ready). Carries no Redis text. */
export class RedisTierError extends Error {
  /** `denied`: the commands the ACL refused (one call's, or each a readiness check met). */
  readonly commands: readonly TierCommand[];
  constructor(
    readonly reason: RedisFailure,
    commands: readonly TierCommand[] = [],
  ) {
    super(`genauth-guard: Redis call ${DESCRIPTIONS[reason]}${commands.length > 0 ? ` (${commands.join(', ')})` : ''}`);
    this.name = 'RedisTierError';
    this.commands = Object.freeze([...commands]);
  }
}

/**
 * Redis's answer for a user its ACL refuses a command, key or channel: an error reply whose code (its
 * first word, by the protocol's convention) is NOPERM. The code is read, never the rest of the text.
 * (Inside a script, Redis 7.0 answers ERR for a refused inner command: that reads as `error`.)
 */
function deniedByAcl(error: unknown): boolean {
  return error instanceof Error && /^NOPERM\b/.test(error.message);
}

/**
 * Runs `call` unless the client says it is not ready (a command would only wait in node-redis's
 * offline queue), and rejects with a RedisTierError when it fails or takes longer than `ms` (real time,
 * like the timers that end a slow GenAuth call). A call that answers late is ignored: each of the
 * tier's writes is checked by Redis itself when it runs (see scripts.ts), whenever that is.
 */
export function bounded<T>(client: { readonly isReady?: boolean }, ms: number, call: () => Promise<T>, command?: TierCommand): Promise<T> {
  if (client.isReady === false) return Promise.reject(new RedisTierError('not-ready'));
  return withinDeadline(ms, call, command);
}

/** `call` (running `command`), rejected with a RedisTierError when it fails or takes longer than `ms` (real time). */
export function withinDeadline<T>(ms: number, call: () => Promise<T>, command?: TierCommand): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // After the event loop was held past `ms` (a GC pause, a long synchronous task), Node runs this
    // overdue timer before it reads the socket where the answer may wait: the verdict waits one turn
    // (a setImmediate runs once sockets are read), and an answer read by then settles the call first.
    const timer = setTimeout(() => void setImmediate(() => reject(new RedisTierError('timeout'))), ms);
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
      (error: unknown) => {
        clearTimeout(timer);
        reject(deniedByAcl(error) ? new RedisTierError('denied', command === undefined ? [] : [command]) : new RedisTierError('error'));
      },
    );
  });
}

/** The reason of a tier failure, for warnings and events. */
export function failureOf(error: unknown): RedisFailure {
  return error instanceof RedisTierError ? error.reason : 'error';
}
