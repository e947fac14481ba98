// OIDC discovery under an outage, and a discovery document that names its key set over plain http.
// While the discovery document could not be fetched, every request (concurrent ones sharing one fetch)
// fetched it again: load amplification against the issuer during its outage. Now a failed discovery is
// remembered for jwt.jwks.cooldownDuration (on the guard's clock): requests meanwhile get the 503 without
// a fetch; guard.ready() still fetches at once. A discovered jwks_uri that is not https (http only when
// the issuer itself is http, for local development) is a set-up problem naming jwt.issuer: the guard
// fails closed instead of fetching the keys unprotected. Over real HTTP: an Express app, the emulator.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { manualClock } from '../clock.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

const DISCOVERY = '/oidc/.well-known/openid-configuration';
const JWKS = '/oidc/.well-known/jwks.json';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
});

function appWith(jwt: { issuer?: string; jwks?: { cooldownDuration?: number } } = {}) {
  const lines: string[] = [];
  const time = manualClock();
  const guard = track(createExpressGuard({
    genauth: emulator().guardOptions().genauth,
    jwt: { discovery: true, issuer: jwt.issuer ?? emulator().issuer, audience: emulator().audience, algorithms: ['RS256'], ...(jwt.jwks === undefined ? {} : { jwks: jwt.jwks }) },
    clock: time.clock,
    logger: { warn: (line: string) => lines.push(line) },
  }));
  const app = express();
  app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
  return { app, guard, lines, time };
}

async function statusOf(app: express.Express): Promise<number> {
  return (await request(app).get('/me').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status;
}

describe('OIDC discovery outage', () => {
  it('a failed discovery is not fetched again before jwt.jwks.cooldownDuration (30 s by default)', async () => {
    emulator().fault({ kind: 'status', status: 503, path: DISCOVERY });
    const { app, time } = appWith();
    expect(await statusOf(app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(1);
    // Before the fix: one more fetch per request (4 here, then 9 below).
    for (let i = 0; i < 3; i++) expect(await statusOf(app)).toBe(503);
    expect(await Promise.all(Array.from({ length: 5 }, () => statusOf(app)))).toEqual([503, 503, 503, 503, 503]);
    expect(emulator().callCount(DISCOVERY)).toBe(1);
    // The issuer is back, but the cooldown still runs: still the 503, no fetch.
    emulator().clearFaults();
    time.advance(29_000);
    expect(await statusOf(app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(1);
    time.advance(1_001);
    expect(await statusOf(app)).toBe(200);
    expect(emulator().callCount(DISCOVERY)).toBe(2);
  });

  it('follows jwt.jwks.cooldownDuration; 0 fetches on every request as before', async () => {
    emulator().fault({ kind: 'status', status: 503, path: DISCOVERY });
    const short = appWith({ jwks: { cooldownDuration: 1_000 } });
    expect(await statusOf(short.app)).toBe(503);
    expect(await statusOf(short.app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(1);
    short.time.advance(1_000);
    expect(await statusOf(short.app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(2);

    emulator().resetCalls();
    const none = appWith({ jwks: { cooldownDuration: 0 } });
    expect(await statusOf(none.app)).toBe(503);
    expect(await statusOf(none.app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(2);
  });

  it('guard.ready() fetches at once during the cooldown, and its success serves the next requests', async () => {
    emulator().fault({ kind: 'status', status: 503, path: DISCOVERY, times: 1 });
    const { app, guard } = appWith();
    expect(await statusOf(app)).toBe(503);
    await guard.ready();
    expect(emulator().callCount(DISCOVERY)).toBe(2);
    expect(await statusOf(app)).toBe(200);
    expect(emulator().callCount(DISCOVERY)).toBe(2);
  });
});

/** A self-signed certificate for 127.0.0.1 made now with openssl (node:crypto cannot issue X.509). */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'genauth-guard-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  }
}

describe('the discovered jwks_uri', () => {
  const servers: Server[] = [];
  const previous = getGlobalDispatcher();
  afterAll(() => {
    setGlobalDispatcher(previous);
    for (const server of servers) server.close();
  });

  const tls = selfSigned();
  it.skipIf(tls === undefined)('an https issuer naming an http jwks_uri: 503, a line naming jwt.issuer, the keys never fetched', async () => {
    const { key, cert } = tls as { key: Buffer; cert: Buffer };
    let issuer = '';
    const server = createHttpsServer({ key, cert }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: emulator().jwksUri }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}/oidc`;
    // The guard's discovery fetch (global fetch) trusts this certificate.
    setGlobalDispatcher(new Agent({ connect: { ca: cert } }));
    const { app, guard, lines } = appWith({ issuer });
    // Before the fix: the key set was fetched over plain http (the token's signature then decided).
    expect(await statusOf(app)).toBe(503);
    expect(emulator().callCount(JWKS)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/jwks_uri.*not https.*check option "jwt\.issuer"/)]);
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect((error as { reasons?: unknown }).reasons).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'discovery_mismatch' })]);
    expect(emulator().callCount(JWKS)).toBe(0);
  });

  it('an http issuer naming a jwks_uri that is not http(s): 503 and a line naming jwt.issuer', async () => {
    emulator().fault({ kind: 'respond', status: 200, body: { issuer: emulator().issuer, jwks_uri: 'ftp://127.0.0.1/jwks.json' }, path: DISCOVERY });
    const { app, lines } = appWith();
    expect(await statusOf(app)).toBe(503);
    expect(lines).toEqual([expect.stringMatching(/jwks_uri.*not https.*check option "jwt\.issuer"/)]);
  });

  it('an http issuer (local development) naming an http jwks_uri still works', async () => {
    const { app } = appWith();
    expect(await statusOf(app)).toBe(200);
    expect(emulator().callCount(JWKS)).toBe(1);
  });
});

describe('a discovery document that is not a JSON object', () => {
  // `null` made the guard read `.issuer` of null outside the handled path (a TypeError, told as "could
  // not be used (TypeError)"); a number, an array or a string were taken as a document of another
  // issuer (discovery_mismatch). Each is now the same handled failure: no discovery document at all.
  it.each([['null'], ['42'], ['[]'], ['[{"issuer":"x"}]'], ['"text"'], ['true']])('%s: 503, key_source_invalid naming jwt.issuer, the cooldown applies', async (body) => {
    emulator().fault({ kind: 'respond', status: 200, body, path: DISCOVERY });
    const { app, guard, lines, time } = appWith();
    expect(await statusOf(app)).toBe(503);
    expect(await statusOf(app)).toBe(503);
    expect(emulator().callCount(DISCOVERY)).toBe(1);
    expect(emulator().callCount(JWKS)).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/discovery document.*not an object.*check option "jwt\.issuer"/)]);
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect((error as { reasons?: unknown }).reasons).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'key_source_invalid' })]);
    expect(emulator().callCount(DISCOVERY)).toBe(2);
    // The issuer is fixed: after the cooldown the next request discovers again and verifies.
    emulator().clearFaults();
    time.advance(30_000);
    expect(await statusOf(app)).toBe(200);
  });
});
