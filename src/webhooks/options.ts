/** The webhook receiver's options, checked like every options object of ours. */
import { fail, positiveInteger, strictObject, unsetHint } from '../options/checks.js';

/** Options of a webhook route (`guard.webhook(options)` and its counterparts). */
export interface WebhookOptions {
  /**
   * The "Request key" set on the webhook in GenAuth's console (sent in `x-authing-webhook-secret`,
   * or `X-Authing-Token` / `X-GenAuth-Token`). A list accepts any of them, for rotating the secret.
   * At least 16 characters, no whitespace at either end, no control characters. Never logged.
   */
  secret: string | readonly string[];
  /** Largest body accepted, in bytes; a larger one is a 413 and is not read further. @default 65536 */
  maxBytes?: number;
}

/** Webhook options resolved. Holds the secrets: keep them in a closure. */
export interface ResolvedWebhookOptions {
  secrets: readonly string[];
  maxBytes: number;
}

/** Shortest secret accepted: a guessable one would let anyone revoke users and flush the cache. */
const MIN_SECRET_LENGTH = 16;

/**
 * What no header value arrives with: HTTP trims whitespace at its ends and refuses control characters,
 * so such a secret (a file's trailing newline, a pasted space) would refuse every delivery with a 401.
 */
const UNSENDABLE = /^\s|\s$|[\u0000-\u001f\u007f]/;

/**
 * Checks a webhook's options; `path` names them in errors, `extraKeys` are the adapter's own keys
 * (checked by the adapter).
 * @throws TypeError naming the option (`webhook.secret`, ...); never quoting the secret.
 */
export function resolveWebhookOptions(value: unknown, path = 'webhook', extraKeys: readonly string[] = []): ResolvedWebhookOptions {
  const input = strictObject(value, ['secret', 'maxBytes', ...extraKeys], path);
  const list: unknown[] = Array.isArray(input.secret) ? input.secret : [input.secret];
  if (list.length === 0) fail(`${path}.secret`, 'must be a string or a non-empty array of strings');
  // An index loop, not forEach: a hole (`[, 'x']`) must be refused, not skipped into the list.
  for (let i = 0; i < list.length; i++) {
    const secret = list[i];
    const where = Array.isArray(input.secret) ? `${path}.secret[${i}]` : `${path}.secret`;
    if (typeof secret !== 'string') fail(where, `must be a string: the secret set on the webhook in GenAuth, ${MIN_SECRET_LENGTH} characters or more${unsetHint(secret)}`);
    if (secret.length < MIN_SECRET_LENGTH) fail(where, `must be at least ${MIN_SECRET_LENGTH} characters`);
    if (UNSENDABLE.test(secret)) fail(where, 'must not start or end with whitespace nor hold control characters (a header cannot carry them)');
  }
  return Object.freeze({
    secrets: Object.freeze([...(list as string[])]),
    maxBytes: positiveInteger(input.maxBytes, `${path}.maxBytes`, 64 * 1024),
  });
}
