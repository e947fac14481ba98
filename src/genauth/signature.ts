import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The AK/SK request signature of the official Node SDKs (HMAC-SHA1 over a canonical string), byte-exact:
 * METHOD, then every signed header (`<prefix>*` and `date`, sorted) as `k:v`, then the canonical
 * resource (path + sorted `k=v` of the query or top-level body keys, not URL-encoded).
 */

export type SignedData = Readonly<Record<string, unknown>>;

/** Canonical resource: `path` alone without data, else `path?k=v&...` with sorted keys. */
export function canonicalResource(path: string, data: SignedData): string {
  const keys = Object.keys(data).sort();
  if (keys.length === 0) return path;
  const parts: string[] = [];
  for (const key of keys) {
    let value = data[key];
    if (value === undefined) continue;
    if (typeof value === 'object' && value !== null) value = JSON.stringify(value);
    parts.push(`${key}=${String(value)}`);
  }
  return `${path}?${parts.join('&')}`;
}

/** The string the signature covers. */
export function stringToSign(
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  data: SignedData,
  headerPrefix: string,
): string {
  const signed = Object.keys(headers)
    .filter((k) => k.startsWith(headerPrefix) || k === 'date')
    .sort();
  let text = `${method}\n`;
  for (const key of signed) text += `${key}:${String(headers[key]).replace(/[\t\n\r\f]/g, ' ').trim()}\n`;
  return text + canonicalResource(path, data);
}

/** base64 HMAC-SHA1 of `text` with `secret`. */
export function hmacSha1(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

let counter = 0;
/** 32 hex characters, fresh per request (replays are refused upstream). */
export function signatureNonce(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return createHash('md5').update(randomBytes(16)).update(String(counter)).digest('hex');
}

export interface SignOptions {
  method: 'GET' | 'POST';
  path: string;
  data: SignedData;
  accessKeyId: string;
  accessKeySecret: string;
  headerPrefix: string;
  /** `authing` (Authing) or `GenAuth` (GenAuth-branded SDK). */
  scheme: string;
  sdkVersion: string;
  date: string;
  nonce: string;
  extraHeaders?: Readonly<Record<string, string>>;
}

/** Builds the signed headers of one request. Call again for every retry: nonce and date must be new. */
export function signRequest(options: SignOptions): Record<string, string> {
  const p = options.headerPrefix;
  const headers: Record<string, string> = {
    [`${p}signature-nonce`]: options.nonce,
    [`${p}signature-method`]: 'HMAC-SHA1',
    [`${p}signature-version`]: '1.0',
    [`${p}sdk-version`]: options.sdkVersion,
    [`${p}lang`]: 'zh-CN',
    date: options.date,
    ...options.extraHeaders,
  };
  const signature = hmacSha1(options.accessKeySecret, stringToSign(options.method, options.path, headers, options.data, p));
  headers.authorization = `${options.scheme} ${options.accessKeyId}:${signature}`;
  return headers;
}
