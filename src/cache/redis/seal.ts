/**
 * Entries are sealed with an HMAC keyed from the GenAuth access key secret, which every instance of
 * the app holds and Redis never sees: whoever can write to Redis, but does not hold the secret,
 * cannot put grants in front of the guard. A value is `<mac>.<text>`, the MAC over the text's bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The sealing key of an app: derived from its secret, so the secret itself is not kept by the tier. */
export function sealingKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('genauth-guard/redis-entries@1').digest();
}

const macOf = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

export function seal(key: Buffer, text: string): string {
  return `${macOf(key, text).toString('base64url')}.${text}`;
}

/** The text of a sealed value, or undefined when it is not sealed with `key`. */
export function unseal(key: Buffer, value: string): string | undefined {
  const dot = value.indexOf('.');
  if (dot !== 43) return undefined; // a SHA-256 MAC is 43 base64url characters
  const given = Buffer.from(value.slice(0, dot), 'base64url');
  const text = value.slice(dot + 1);
  const expected = macOf(key, text);
  return given.length === expected.length && timingSafeEqual(given, expected) ? text : undefined;
}
