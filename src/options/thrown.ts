/**
 * What the guard does with what a user's callback (`onDecision`, `logger.warn`) throws or rejects
 * with: it names it without reading more of it, and never lets it reach the request or the process.
 */

/** A thrown value's error name, else its type; never its message (it may hold user data). Never throws. */
export function thrownName(value: unknown): string {
  try {
    if (value instanceof Error && typeof value.name === 'string') return value.name;
  } catch {
    // A name getter or a proxy that throws: named by its type.
  }
  return typeof value;
}

/**
 * Hands the rejection of what a callback typed `=> void` returned (an async function's promise) to
 * `onRejected`: left unhandled, Node's default ends the process. A plain return costs one comparison.
 * Never throws.
 */
export function catchReturned(returned: unknown, onRejected: (reason: unknown) => void): void {
  if (returned === undefined || (typeof returned !== 'object' && typeof returned !== 'function') || returned === null) return;
  try {
    // Promise.resolve reads `then` itself and turns a `then` that throws into a rejection.
    Promise.resolve(returned).then(undefined, onRejected);
  } catch (error) {
    onRejected(error);
  }
}
