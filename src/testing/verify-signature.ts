import { timingSafeEqual } from 'node:crypto';
import { hmacSha1, stringToSign, type SignedData } from '../genauth/signature.js';
import type { Body } from './types.js';

/**
 * Server side of the AK/SK request signature (GENAUTH-PROTOCOL.md 1.2): rebuilds the canonical string
 * from what was received and refuses like GenAuth does, HTTP 200 with body `statusCode` 401 and an
 * apiCode from the error-code page (1300 signature, 1301 method, 1302 version, 1303 date format,
 * 1304 no date, 1305 clock skew, 1306 replayed nonce).
 */

/** Scheme word of `authorization` -> the header prefix whose headers are signed. */
const SCHEMES: Readonly<Record<string, string>> = { authing: 'x-authing-', GenAuth: 'x-genauth-' };
const AUTHORIZATION = /^(\S+) ([^\s:]+):(\S+)$/;

/** What a signed request carries, as received. */
export interface SignedRequest {
  method: string;
  /** Pathname as sent, without the query. */
  path: string;
  /** Lowercase header names, one string each. */
  headers: Readonly<Record<string, string>>;
  /** The parsed query (GET) or the top-level JSON body keys (other methods). */
  data: SignedData;
}

export interface SignatureVerifierOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** Largest |server time - `date`| accepted, in ms. */
  maxSkew: number;
  now?: () => number;
}

const refuse = (apiCode: number, message: string): Body => ({ statusCode: 401, apiCode, message });

/** `true` when the `authorization` header uses a signature scheme word (else it is a management token). */
export function isSignatureAuthorization(authorization: string | undefined): boolean {
  const match = AUTHORIZATION.exec(authorization ?? '');
  return match !== null && SCHEMES[match[1] ?? ''] !== undefined;
}

/** The nonce of a signed request under either prefix, for replay bookkeeping and the call log. */
export function signatureNonce(headers: Readonly<Record<string, string>>): string | undefined {
  return headers['x-authing-signature-nonce'] ?? headers['x-genauth-signature-nonce'];
}

/** An HTTP date as `toUTCString()` writes it (RFC 7231's IMF-fixdate), the Node SDK's form. */
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * `date` as ms: an HTTP date (Node SDK) or epoch milliseconds (old Java SDK); NaN when neither. Only
 * the forms SDKs are known to send pass: Date.parse alone also read ISO 8601 and other forms no SDK
 * sends, which GenAuth may refuse (1303).
 */
function parseDate(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  return HTTP_DATE.test(value) ? Date.parse(value) : Number.NaN;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Creates a verifier with its own replay memory. Nonces are remembered on arrival ({@link observe}),
 * faulted requests included, for twice the skew window (a `date` outside it is refused anyway).
 */
export function createSignatureVerifier(options: SignatureVerifierOptions) {
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>(); // nonce -> first arrival (ms)
  let lastPrune = 0;

  function prune(at: number): void {
    if (at - lastPrune < 1000) return;
    lastPrune = at;
    for (const [nonce, first] of seen) if (at - first > 2 * options.maxSkew) seen.delete(nonce);
  }

  return {
    /** Records a nonce on arrival; returns whether it had been seen before (a replay). */
    observe(nonce: string): boolean {
      const at = now();
      prune(at);
      if (seen.has(nonce)) return true;
      seen.set(nonce, at);
      return false;
    },

    /** Checks one signed request; `undefined` means it is authentic. `replayed` comes from {@link observe}. */
    verify(request: SignedRequest, replayed: boolean): Body | undefined {
      const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
      const prefix = SCHEMES[match?.[1] ?? ''];
      if (match === null || prefix === undefined) return refuse(1300, 'signature invalid');
      const [, , accessKeyId = '', signature = ''] = match;
      if (accessKeyId !== options.accessKeyId) return refuse(1300, 'signature invalid');
      const h = request.headers;
      // No nonce under the scheme's prefix (e.g. `GenAuth` with x-authing- headers): not a signature of this scheme.
      if (!h[`${prefix}signature-nonce`]) return refuse(1300, 'signature nonce missing');
      if (h[`${prefix}signature-method`] !== 'HMAC-SHA1') return refuse(1301, 'signature method mismatch');
      if (h[`${prefix}signature-version`] !== '1.0') return refuse(1302, 'signature version mismatch');
      const date = h.date;
      if (date === undefined || date === '') return refuse(1304, 'date header missing');
      const sent = parseDate(date);
      if (Number.isNaN(sent)) return refuse(1303, 'date format invalid');
      if (Math.abs(now() - sent) > options.maxSkew) return refuse(1305, 'date too far from server time');
      const expected = hmacSha1(options.accessKeySecret, stringToSign(request.method, request.path, h, request.data, prefix));
      if (!sameText(expected, signature)) return refuse(1300, 'signature invalid');
      // Checked after the signature so only an authentic request is reported as a replay.
      if (replayed) return refuse(1306, 'signature already consumed');
      return undefined;
    },
  };
}

/** A signature verifier. */
export type SignatureVerifier = ReturnType<typeof createSignatureVerifier>;
