/**
 * The webhook's shared secret. GenAuth sends the configured secret as is in a header (not an HMAC of
 * the body), so the check is a comparison, made in constant time over equal-length digests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Every header GenAuth's docs name for the secret: `x-authing-webhook-secret` (the headers table),
 * `X-Authing-Token` / `X-GenAuth-Token` (the parameter table), and the `x-genauth-` spelling of the first.
 */
export const SECRET_HEADERS = ['x-authing-webhook-secret', 'x-genauth-webhook-secret', 'x-authing-token', 'x-genauth-token'] as const;

/** Request headers as Node gives them: lower-case names, a list for a repeated header. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The headers with lower-case names, for a receiver handed headers of another origin (a `Headers`
 * object's entries, a hand-built record). Two names differing only in case become one repeated header.
 */
export function lowerCaseHeaders(headers: WebhookHeaders): WebhookHeaders {
  const out: Record<string, string | readonly string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const previous = out[key];
    out[key] = previous === undefined ? value : [...(typeof previous === 'string' ? [previous] : previous), ...(typeof value === 'string' ? [value] : value)];
  }
  return out;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A check of the secret headers against the configured secrets (more than one while rotating). It
 * passes when at least one secret header is present, none is repeated, and every one present equals a
 * configured secret. Every comparison runs, whatever the earlier ones found.
 */
export function createSecretCheck(secrets: readonly string[]): (headers: WebhookHeaders) => boolean {
  const expected = secrets.map(digest);
  return (headers) => {
    let present = 0;
    let ok = true;
    for (const name of SECRET_HEADERS) {
      const value = headers[name];
      if (value === undefined) continue;
      present += 1;
      if (typeof value !== 'string') {
        ok = false;
        continue;
      }
      const given = digest(value);
      let matched = false;
      for (const secret of expected) matched = timingSafeEqual(given, secret) || matched;
      ok = ok && matched;
    }
    return present > 0 && ok;
  };
}
