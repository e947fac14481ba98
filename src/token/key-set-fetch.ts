import type { FetchImplementation } from 'jose/jwks/remote';
import { createLocalJWKSet } from 'jose/jwks/local';
import type { Clock } from '../options/types.js';
import { discardBody, readBoundedText } from './bounded-body.js';
import { KeySourceError } from './key-source-error.js';

/** The wait after a first failed fetch; it doubles with each failure in a row, up to the cooldown. */
export const FIRST_WAIT_MS = 1_000;

/** jose's fetch of a remote key set, spaced out after failures. */
export interface KeySetFetch {
  readonly fetch: FetchImplementation;
  /** Runs `reload` with the wait lifted for the fetch it starts (`guard.ready()` fetches at once). */
  now<T>(reload: () => T): T;
}

/**
 * The fetch handed to jose's `createRemoteJWKSet` (its `customFetch`). jose starts its cooldown only
 * after a fetch that succeeded, so while the key set cannot be loaded (before the first load, once the
 * cached set is stale, or on an unknown `kid` after the cooldown) it fetched again for every request:
 * load on the issuer during its outage, on demand. After a failure this gives jose the same failure
 * again, without a fetch, for a wait of 1 s that doubles with each failure in a row up to `cooldown`
 * ms on `clock` (0: no wait). A success ends it. jose's own answer to the replay is the one it gave the
 * failure (same error, hence the same 503 and set-up problem).
 *
 * A failure is what jose would refuse: a rejected fetch (network, timeout), a status other than 200, a
 * body that is not JSON or not a key set (`createLocalJWKSet` decides, as in jose's reload); and one
 * jose would take whole: a body of more than `maxBytes` (`jwt.jwks.maxResponseBytes`), whose read is
 * cut off there (a KeySourceTooLargeError). A status other than 200 and a body that is not JSON reject
 * here with a {@link KeySourceError} (its `status`, or failure `not_json`): jose's own errors for those
 * two are of one generic class, told apart only by their words. jose passes a rejection of its fetch on
 * as it is (a `TimeoutError` aside, which it makes a JWKSTimeout); a key set it refuses is its
 * JWKSInvalid (`ERR_JWKS_INVALID`).
 */
export function createKeySetFetch(cooldown: number, clock: Clock, maxBytes: number): KeySetFetch {
  let failures = 0;
  let failedAt = 0;
  let replay: (() => Promise<Response>) | undefined;
  let waitLifted = false;

  function failed(again: () => Promise<Response>): void {
    failures++;
    failedAt = clock.now();
    replay = again;
  }

  async function keySetFetch(url: string, init: Parameters<FetchImplementation>[1]): Promise<Response> {
    const wait = Math.min(cooldown, FIRST_WAIT_MS * 2 ** Math.min(failures - 1, 30));
    if (replay !== undefined && !waitLifted && clock.now() - failedAt < wait) return replay();
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, init);
      if (response.status !== 200) {
        const status = response.status;
        // The body is not read, nor left to hold the connection.
        discardBody(response);
        // Told here, with its status: jose would refuse it too, but with an error of its generic class
        // (ERR_JOSE_GENERIC) told apart from others only by its words, and without the status.
        throw new KeySourceError(`the key set answered HTTP ${status}`, 'fetch', { status });
      }
      text = await readBoundedText(response, maxBytes, 'jwks');
    } catch (error) {
      failed(() => Promise.reject(error));
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Told here, as for a status: jose's own refusal (its response.json() failing) is of its generic
      // class too. The parser's words quote the body: not kept.
      const error = new KeySourceError('the key set answered what is not JSON', 'not_json');
      failed(() => Promise.reject(error));
      throw error;
    }
    try {
      createLocalJWKSet(parsed as Parameters<typeof createLocalJWKSet>[0]);
      failures = 0;
      replay = undefined;
    } catch {
      // A JSON value that is not a key set: jose refuses `{}` with the same JWKSInvalid.
      failed(async () => new Response('{}', { status: 200 }));
    }
    return new Response(text, { status: 200 });
  }

  return {
    fetch: keySetFetch,
    now(reload) {
      // jose calls the fetch synchronously from reload(), before its first await.
      waitLifted = true;
      try {
        return reload();
      } finally {
        waitLifted = false;
      }
    },
  };
}

