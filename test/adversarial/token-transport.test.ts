/**
 * Token transport (RFC 6750 section 2, RFC 9110 section 11): only `Authorization: Bearer <b64token>`
 * carries a token. A missing one is a bare 401 challenge, a malformed or repeated header a 400
 * `invalid_request`, a token elsewhere (query, body, cookie, another header or scheme) counts as none;
 * none of them reaches GenAuth or the handler, and the token is echoed nowhere. Run with the adapter
 * answering, and with `passErrors` (the framework's error layer answering).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStandardTenant } from '../fixtures.js';
import { ANSWER_MODES, capture, expectAllowed, expectRefused, forbiddenStrings, optionsFor, ROWS, startProbe, useAdversarialEnv, type LeakScope, type Probe } from './harness.js';
import { rawSend, type RawRequest } from './raw-http.js';

const emulator = useAdversarialEnv();
let token = '';

beforeAll(async () => {
  seedStandardTenant(emulator());
  token = await emulator().mintToken('alice');
});

const MISSING = 'Bearer realm="api"';
const INVALID_REQUEST = /^Bearer realm="api", error="invalid_request", error_description="[^"]+"$/;
const INVALID_TOKEN = /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/;

type Outcome =
  | { status: 401; code: 'ERR_MISSING_TOKEN'; challenge: string }
  | { status: 400; code: 'ERR_INVALID_REQUEST'; challenge: RegExp }
  | { status: 401; code: 'ERR_INVALID_TOKEN'; challenge: RegExp };

const missing: Outcome = { status: 401, code: 'ERR_MISSING_TOKEN', challenge: MISSING };
const invalidRequest: Outcome = { status: 400, code: 'ERR_INVALID_REQUEST', challenge: INVALID_REQUEST };
const invalidToken: Outcome = { status: 401, code: 'ERR_INVALID_TOKEN', challenge: INVALID_TOKEN };

const REPORTS = '/api/v1/reports';
const get = (headers: Array<[string, string]>, target = REPORTS): RawRequest => ({ method: 'GET', target, headers });

/** [label, request for token t, outcome, leak scope]. */
const REFUSED: Array<[string, (t: string) => RawRequest, Outcome, LeakScope?]> = [
  ['no Authorization header', () => get([]), missing],
  ['an empty Authorization header', () => get([['authorization', '']]), missing],
  ['Basic credentials', () => get([['authorization', 'Basic YWxpY2U6c2VjcmV0']]), missing],
  ['the token under the Token scheme', (t) => get([['authorization', `Token ${t}`]]), missing],
  ['the token under the DPoP scheme', (t) => get([['authorization', `DPoP ${t}`]]), missing],
  ['"Bearer:" glued to the token', (t) => get([['authorization', `Bearer:${t}`]]), missing],
  ['a tab instead of the space', (t) => get([['authorization', `Bearer\t${t}`]]), missing],
  ['the scheme alone', () => get([['authorization', 'Bearer']]), invalidRequest],
  ['two tokens in one header', (t) => get([['authorization', `Bearer ${t} ${t}`]]), invalidRequest],
  ['a comma inside the token', (t) => get([['authorization', `Bearer ${t},x`]]), invalidRequest],
  ['a quoted token', (t) => get([['authorization', `Bearer "${t}"`]]), invalidRequest],
  ['a byte outside ASCII after the token', (t) => get([['authorization', `Bearer ${t}\u00e9`]]), invalidRequest],
  ['two Authorization headers with the same valid token', (t) => get([['authorization', `Bearer ${t}`], ['authorization', `Bearer ${t}`]]), invalidRequest],
  ['two Authorization headers, junk first', (t) => get([['authorization', 'Bearer junk'], ['Authorization', `Bearer ${t}`]]), invalidRequest],
  ['padding after a valid token', (t) => get([['authorization', `Bearer ${t}==`]]), invalidToken],
  ['the token in the query (access_token)', (t) => get([], `${REPORTS}?access_token=${t}`), missing, { frameworkLogs: false }],
  ['the token in the query of authenticate()', (t) => get([], `/api/v1/me?access_token=${t}`), missing, { frameworkLogs: false }],
  [
    'the token in a form body',
    (t) => ({
      method: 'POST',
      target: '/api/v1/servers/1/start',
      headers: [['content-type', 'application/x-www-form-urlencoded']],
      body: `access_token=${t}`,
    }),
    missing,
  ],
  ['the token in a cookie', (t) => get([['cookie', `access_token=${t}; token=${t}`]]), missing],
  ['the token in Proxy-Authorization', (t) => get([['proxy-authorization', `Bearer ${t}`]]), missing],
  ['the token in X-Access-Token', (t) => get([['x-access-token', t], ['x-auth-token', `Bearer ${t}`]]), missing],
  ['HEAD without a token', () => ({ method: 'HEAD', target: REPORTS }), missing],
];

/** [label, request for token t, upstream calls (the app runs with cache: false)]. */
const ALLOWED: Array<[string, (t: string) => RawRequest, number]> = [
  ['Bearer and one space', (t) => get([['authorization', `Bearer ${t}`]]), 1],
  ['the scheme in lower case (RFC 9110 section 11.1)', (t) => get([['authorization', `bearer ${t}`]]), 1],
  ['the scheme in upper case', (t) => get([['authorization', `BEARER ${t}`]]), 1],
  ['several spaces after the scheme', (t) => get([['authorization', `Bearer    ${t}`]]), 1],
  ['authenticate() only verifies the token', (t) => get([['authorization', `Bearer ${t}`]], '/api/v1/me'), 0],
];

describe.each(ANSWER_MODES)('$mode', ({ passErrors }) => {
  describe.each(ROWS)('$name', (row) => {
    let probe: Probe;
    beforeAll(async () => {
      probe = await startProbe(row, { options: optionsFor(emulator(), { cache: false }), passErrors });
    });
    afterAll(async () => {
      await probe.close();
    });

    it.each(REFUSED)('refuses %s', async (_label, build, outcome, scope) => {
      const request = build(token);
      const answer = await rawSend(probe.port, request);
      expectRefused(emulator(), probe, answer, { ...outcome, forbidden: forbiddenStrings(emulator(), token), scope });
      if (request.method === 'HEAD') expect(answer.body).toBe('');
    });

    it.each(ALLOWED)('accepts %s', async (_label, build, upstream) => {
      const answer = await rawSend(probe.port, build(token));
      expectAllowed(emulator(), answer, upstream);
      expect(JSON.parse(answer.body)).toMatchObject({ ok: true, user: 'alice' });
      expect(capture.errors).toEqual([]);
    });

    it('the capture sees what this row logs and passes on (the leak checks are not vacuous)', async () => {
      await rawSend(probe.port, get([['authorization', `Bearer ${token}x`]]));
      if (row.name.startsWith('Fastify')) expect(capture.lines.some((line) => line.startsWith('[framework]'))).toBe(true);
      expect(capture.errors.length > 0).toBe(passErrors || row.name.startsWith('Nest'));
    });

    it('refuses an Authorization header beyond the server header limit before any guard runs', async () => {
      const answer = await rawSend(probe.port, get([['authorization', `Bearer ${token}${'A'.repeat(20_000)}`]]));
      expect(answer.status).toBe(431);
      expect(capture.handled).toBe(0);
      expect(emulator().callCount()).toBe(0);
    });
  });
});
