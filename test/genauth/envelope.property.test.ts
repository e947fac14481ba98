// Property tests of envelope parsing: whatever GenAuth (or something in its place) answers, reading it
// never throws anything but a GenAuthApiError, and only a 2xx answer with statusCode 200 and data passes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenAuthApiError } from '../../src/errors.js';
import { missingFromList, parseRetryAfter, readEnvelope } from '../../src/genauth/envelope.js';

const RUNS = { numRuns: 400 };
const httpStatus = fc.oneof(fc.constantFrom(200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503), fc.integer({ min: 100, max: 599 }));
/** Envelope-like objects with hostile members, prototype-pollution keys among them. */
const envelopeLike = fc.record(
  {
    statusCode: fc.oneof(fc.constantFrom(200, 401, 403, 404, 429, 500), fc.jsonValue()),
    apiCode: fc.oneof(fc.constantFrom(1300, 2004), fc.jsonValue()),
    message: fc.jsonValue(),
    data: fc.jsonValue(),
    ['__proto__']: fc.jsonValue(),
    constructor: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const bodyText = fc.oneof(fc.json(), fc.string(), envelopeLike.map((e) => JSON.stringify(e)), fc.jsonValue().map((v) => JSON.stringify({ statusCode: 200, data: v })));

function outcome(status: number, text: string): 'ok' | GenAuthApiError {
  try {
    readEnvelope(status, text, undefined);
    return 'ok';
  } catch (error) {
    if (error instanceof GenAuthApiError) return error;
    throw error; // anything else fails the property
  }
}

describe('readEnvelope', () => {
  it('never throws anything but a GenAuthApiError, whatever the body and status', () => {
    fc.assert(
      fc.property(httpStatus, bodyText, (status, text) => {
        outcome(status, text);
      }),
      RUNS,
    );
  });

  it('passes only a 2xx answer whose envelope says 200 and carries data', () => {
    fc.assert(
      fc.property(httpStatus, bodyText, (status, text) => {
        if (outcome(status, text) !== 'ok') return;
        const body = JSON.parse(text) as { statusCode?: unknown; data?: unknown };
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThanOrEqual(299);
        expect(status).not.toBe(429);
        expect(body.statusCode).toBe(200);
        expect(body.data === undefined || body.data === null).toBe(false);
      }),
      RUNS,
    );
  });

  it('never lets upstream text into the error message', () => {
    fc.assert(
      fc.property(httpStatus, fc.string({ minLength: 12 }), (status, message) => {
        const error = outcome(status, JSON.stringify({ statusCode: 500, message }));
        expect(error).not.toBe('ok');
        expect((error as GenAuthApiError).message).not.toContain(message);
      }),
      RUNS,
    );
  });

  it('leaves Object.prototype alone', () => {
    fc.assert(
      fc.property(httpStatus, bodyText, (status, text) => {
        outcome(status, text);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('missingFromList and parseRetryAfter', () => {
  it('never throw, and a partial list is only one shorter than a readable totalCount', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.jsonValue(), (length, totalCount) => {
        const missing = missingFromList(length, totalCount);
        if (missing !== undefined) expect(missing).toBeGreaterThan(length);
      }),
      RUNS,
    );
  });

  it('reads any header value as undefined or a non-negative number of seconds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined)), fc.nat(), (value, now) => {
        const seconds = parseRetryAfter(value, now);
        if (seconds !== undefined) expect(seconds).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });
});
