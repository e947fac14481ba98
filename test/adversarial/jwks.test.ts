/**
 * The key set under attack and under failure (RFC 7517, RFC 8725 section 3.10): rotation, removal,
 * floods of unknown `kid`s, outages, malformed sets, keys sharing a `kid`, keys published for another
 * `use` or `alg`. A token is accepted only under a key the set publishes for RS256 signatures; an
 * unreachable or unreadable set is a 503 with Retry-After, never a 401. Each case starts a fresh app,
 * so no key set is cached from an earlier case.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { createTokenMinter, generateSigningKey, type SigningKey, type TokenMinter } from '../../src/testing/index.js';
import { seedStandardTenant } from '../fixtures.js';
import { claimsFor, hmacSigned, outsiderKey, signRaw } from './crafted-tokens.js';
import {
  bearer,
  capture,
  expectAllowed,
  expectRefused,
  forbiddenStrings,
  optionsFor,
  ROWS,
  send,
  sleep,
  startProbe,
  useAdversarialEnv,
  type AdapterRow,
  type Answer,
  type Probe,
} from './harness.js';
import { startKeyServer, type KeyServer } from './key-server.js';

const emulator = useAdversarialEnv();
let minter: TokenMinter;
let keyServer: KeyServer;
/** The published key, a key added by rotation, and another key under the published key's kid. */
let K1: SigningKey;
let K2: SigningKey;
let twin: SigningKey;
let outsider: Awaited<ReturnType<typeof outsiderKey>>;

beforeAll(async () => {
  seedStandardTenant(emulator());
  minter = await createTokenMinter({ issuer: emulator().issuer, audience: emulator().audience });
  K1 = minter.key('RS256');
  K2 = await generateSigningKey('RS256', 'rotated-2');
  twin = await generateSigningKey('RS256', K1.kid);
  outsider = await outsiderKey('RS256');
  keyServer = await startKeyServer();
});
afterAll(async () => {
  await keyServer.close();
});
beforeEach(() => {
  keyServer.keys([K1.publicJwk]);
  keyServer.resetCalls();
});

/** A fresh token (its own `jti`, so never one the guard cached) signed by `key` under `kid`. */
function tokenOf(key: { privateKey: SigningKey['privateKey'] }, kid: string | undefined): Promise<string> {
  const header = kid === undefined ? { alg: 'RS256', typ: 'JWT' } : { alg: 'RS256', typ: 'JWT', kid };
  return signRaw('RS256', key.privateKey, header, claimsFor(minter.issuer, minter.audience, 'alice', { jti: randomUUID() }));
}

const INVALID_TOKEN = /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/;

interface Context {
  probe: Probe;
  request(token: string): Promise<Answer>;
}

/** What a case checks: a refusal with 401, or an outage with 503 (both with no GenAuth call). */
function refusedAs401(ctx: Context, answer: Answer, token: string): void {
  expectRefused(emulator(), ctx.probe, answer, { status: 401, code: 'ERR_INVALID_TOKEN', challenge: INVALID_TOKEN, forbidden: forbiddenStrings(emulator(), token) });
}
function refusedAs503(ctx: Context, answer: Answer, token: string): void {
  expectRefused(emulator(), ctx.probe, answer, { status: 503, code: 'ERR_KEYS_UNAVAILABLE', challenge: null, forbidden: forbiddenStrings(emulator(), token, ['JWKS unavailable', 'not json']) });
}
/** A request the guard let through; the capture is cleared so the next step starts from zero. */
function allowedAndReset(answer: Answer): void {
  expectAllowed(emulator(), answer, 1);
  capture.handled = 0;
  emulator().resetCalls();
}

interface Case {
  label: string;
  /** jose remote key set knobs (`jwt.jwks`). */
  jwks?: Record<string, number>;
  run(ctx: Context): Promise<void>;
}

const CASES: Case[] = [
  {
    label: 'rotation: a key published after the set was cached is fetched on its first token',
    jwks: { cooldownDuration: 0 },
    async run(ctx) {
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      keyServer.keys([K1.publicJwk, K2.publicJwk]);
      allowedAndReset(await ctx.request(await tokenOf(K2, K2.kid)));
      expect(keyServer.calls('/jwks.json')).toBe(2);
    },
  },
  {
    label: 'removal: a new token of a removed key is refused once the cached set expires',
    jwks: { cacheMaxAge: 100 },
    async run(ctx) {
      keyServer.keys([K1.publicJwk, K2.publicJwk]);
      allowedAndReset(await ctx.request(await tokenOf(K2, K2.kid)));
      keyServer.keys([K1.publicJwk]);
      await sleep(150);
      const token = await tokenOf(K2, K2.kid);
      refusedAs401(ctx, await ctx.request(token), token);
      expect(keyServer.calls('/jwks.json')).toBe(2);
    },
  },
  {
    label: 'kid flood after the set is cached: no refetch within the cooldown',
    async run(ctx) {
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => tokenOf(outsider, `flood-${i}`)));
      const answers = await Promise.all(tokens.map((t) => ctx.request(t)));
      answers.forEach((answer, i) => refusedAs401(ctx, answer, tokens[i] as string));
      expect(keyServer.calls('/jwks.json')).toBe(1);
    },
  },
  {
    label: 'kid flood on a cold guard: one fetch for all',
    async run(ctx) {
      const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => tokenOf(outsider, `cold-${i}`)));
      const answers = await Promise.all(tokens.map((t) => ctx.request(t)));
      answers.forEach((answer, i) => refusedAs401(ctx, answer, tokens[i] as string));
      expect(keyServer.calls('/jwks.json')).toBeLessThanOrEqual(2);
    },
  },
  {
    label: 'outage before any set was fetched: 503',
    async run(ctx) {
      keyServer.answer({ kind: 'raw', status: 503, body: '{"message":"JWKS unavailable"}' });
      const token = await tokenOf(K1, K1.kid);
      refusedAs503(ctx, await ctx.request(token), token);
    },
  },
  {
    label: 'outage: the key server hangs past the timeout: 503',
    jwks: { timeoutDuration: 300 },
    async run(ctx) {
      keyServer.answer({ kind: 'hang' });
      const token = await tokenOf(K1, K1.kid);
      refusedAs503(ctx, await ctx.request(token), token);
    },
  },
  {
    label: 'outage: the key server drops the connection: 503',
    async run(ctx) {
      keyServer.answer({ kind: 'drop' });
      const token = await tokenOf(K1, K1.kid);
      refusedAs503(ctx, await ctx.request(token), token);
    },
  },
  {
    label: 'outage: a kid not in the cached set, once the cooldown is over, is a 503 (never 401)',
    jwks: { cooldownDuration: 0 },
    async run(ctx) {
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      keyServer.answer({ kind: 'raw', status: 503, body: '{"message":"JWKS unavailable"}' });
      const token = await tokenOf(K2, K2.kid);
      refusedAs503(ctx, await ctx.request(token), token);
    },
  },
  {
    label: 'outage: the cached set still verifies its own keys',
    async run(ctx) {
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      keyServer.answer({ kind: 'raw', status: 503, body: '{"message":"JWKS unavailable"}' });
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      expect(keyServer.calls('/jwks.json')).toBe(1);
    },
  },
  {
    label: 'outage: a cached set past its max age is not used: 503 (never 401)',
    jwks: { cacheMaxAge: 100 },
    async run(ctx) {
      allowedAndReset(await ctx.request(await tokenOf(K1, K1.kid)));
      keyServer.answer({ kind: 'drop' });
      await sleep(150);
      const token = await tokenOf(K1, K1.kid);
      refusedAs503(ctx, await ctx.request(token), token);
    },
  },
  ...(
    [
      ['not JSON', { kind: 'raw', status: 200, body: 'not json' }],
      ['keys not an array', { kind: 'raw', status: 200, body: '{"keys":"x"}' }],
      ['no keys member', { kind: 'raw', status: 200, body: '{}' }],
      ['a JSON array', { kind: 'raw', status: 200, body: '[]' }],
      ['an HTML error page with 200', { kind: 'raw', status: 200, body: '<html>not json</html>', headers: { 'content-type': 'text/html' } }],
      ['a redirect to another set', { kind: 'raw', status: 302, body: '', headers: { location: '/outsider.json' } }],
      ['HTTP 404', { kind: 'raw', status: 404, body: '{"message":"not json"}' }],
    ] as const
  ).map(
    ([what, answer]): Case => ({
      label: `a key set answered as ${what} is an outage: 503`,
      async run(ctx) {
        keyServer.answer(answer);
        const token = await tokenOf(K1, K1.kid);
        refusedAs503(ctx, await ctx.request(token), token);
        expect(keyServer.calls('/outsider.json')).toBe(0);
      },
    }),
  ),
  {
    label: 'an empty key set verifies nothing: 401',
    async run(ctx) {
      keyServer.keys([]);
      const token = await tokenOf(K1, K1.kid);
      refusedAs401(ctx, await ctx.request(token), token);
    },
  },
  {
    // RFC 7517 section 4.5: kids SHOULD be distinct. When they are not, the guard cannot tell which key
    // is meant and refuses every token under that kid (jose's JWKSMultipleMatchingKeys), its signer's
    // key published or not.
    label: 'two published keys share a kid: every token under it is refused, whoever signed it',
    async run(ctx) {
      keyServer.keys([K1.publicJwk, twin.publicJwk]);
      for (const key of [K1, twin, outsider]) {
        const token = await tokenOf(key, K1.kid);
        refusedAs401(ctx, await ctx.request(token), token);
      }
    },
  },
  {
    label: 'no kid while two RSA keys without kids are published: refused as ambiguous',
    async run(ctx) {
      keyServer.keys([{ ...K1.publicJwk, kid: undefined }, { ...K2.publicJwk, kid: undefined }] as JWK[]);
      for (const key of [K2, outsider]) {
        const token = await tokenOf(key, undefined);
        refusedAs401(ctx, await ctx.request(token), token);
      }
    },
  },
  {
    label: 'no kid while one RSA key is published: verified under it, an outsider is refused',
    async run(ctx) {
      keyServer.keys([K1.publicJwk]);
      allowedAndReset(await ctx.request(await tokenOf(K1, undefined)));
      const token = await tokenOf(outsider, undefined);
      refusedAs401(ctx, await ctx.request(token), token);
    },
  },
  ...(
    [
      ['use: enc', { use: 'enc' }],
      ['alg RS512', { alg: 'RS512' }],
      ['alg PS256', { alg: 'PS256' }],
      ['key_ops [encrypt]', { key_ops: ['encrypt'] }],
      ['kty EC', { kty: 'EC' }],
    ] as const
  ).map(
    ([what, change]): Case => ({
      label: `the signing key published with ${what}: 401`,
      async run(ctx) {
        keyServer.keys([{ ...K1.publicJwk, ...change } as JWK]);
        const token = await tokenOf(K1, K1.kid);
        refusedAs401(ctx, await ctx.request(token), token);
      },
    }),
  ),
  {
    label: 'a symmetric key in the set does not make HS256 acceptable',
    async run(ctx) {
      const secret = 'published-symmetric-secret-0123456789';
      keyServer.keys([K1.publicJwk, { kty: 'oct', kid: 'hs', k: Buffer.from(secret).toString('base64url') }]);
      const token = await hmacSigned(secret, { alg: 'HS256', typ: 'JWT', kid: 'hs' }, claimsFor(minter.issuer, minter.audience, 'alice'));
      refusedAs401(ctx, await ctx.request(token), token);
    },
  },
];

async function withApp(row: AdapterRow, jwks: Record<string, number> | undefined, run: (ctx: Context) => Promise<void>): Promise<void> {
  const options = optionsFor(emulator(), { cache: false, jwt: { jwksUri: keyServer.jwksUri, algorithms: ['RS256'], jwks: { timeoutDuration: 1000, ...jwks } } });
  const probe = await startProbe(row, { options });
  try {
    await run({ probe, request: (token) => send(probe.port, { target: '/api/v1/reports', headers: bearer(token) }) });
  } finally {
    await probe.close();
  }
}

describe.each(ROWS)('$name', (row) => {
  it.each(CASES)('$label', ({ jwks, run }) => withApp(row, jwks, run));
});
