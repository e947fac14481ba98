/**
 * The messages of the invalidation channel. Each names the instance that sent it, so an instance
 * skips its own (it already applied them). Read like any input: a message that does not parse, or is
 * not one of these shapes, is ignored.
 */

export type InvalidationMessage =
  | { from: string; user: string }
  | { from: string; all: true }
  /** The user's tokens issued at or before `at` (ms since the epoch) are revoked. */
  | { from: string; revoked: string; at: number }
  /** Sent by an instance to itself through Redis: its subscription is live when the probe comes back. */
  | { from: string; probe: string };

/** Longest message read; user ids are bounded by `identity.maxLength` far below this. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export function encodeMessage(message: InvalidationMessage): string {
  return JSON.stringify(message);
}

export function decodeMessage(text: unknown): InvalidationMessage | undefined {
  if (typeof text !== 'string' || text.length > MAX_MESSAGE_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const message = parsed as Record<string, unknown>;
  const from = message.from;
  if (typeof from !== 'string') return undefined;
  if (typeof message.user === 'string' && message.user !== '') return { from, user: message.user };
  if (message.all === true) return { from, all: true };
  if (typeof message.revoked === 'string' && message.revoked !== '' && Number.isSafeInteger(message.at) && (message.at as number) > 0) {
    return { from, revoked: message.revoked, at: message.at as number };
  }
  if (typeof message.probe === 'string') return { from, probe: message.probe };
  return undefined;
}
