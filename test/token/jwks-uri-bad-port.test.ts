// A key set on a port that fetch refuses. The WHATWG Fetch standard blocks a list of "bad ports" (SMTP,
// SSH, IRC, X11, ...): fetch rejects a URL on one at once, without a connection. A `jwt.jwksUri` (or,
// with discovery, a `jwt.issuer`) on such a port was accepted when the guard was built, and then every
// request was a 503 whose set-up problem said `key_source_invalid` "could not be used (TypeError)".
// The key set could never be fetched: now that is a TypeError at construction naming the option. A
// discovered `jwks_uri` on such a port (the issuer's metadata chose it, at run time) is a set-up problem
// naming `jwt.issuer` that says so, and its keys are never fetched. Over HTTP: an Express app, the emulator.
import { createRequire } from 'node:module';
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { FETCH_BAD_PORTS } from '../../src/token/key-set-url.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();
type Jwt = NonNullable<ExpressGuardOptions['jwt']>;
const DISCOVERY = '/oidc/.well-known/openid-configuration';
const JWKS = '/oidc/.well-known/jwks.json';

beforeEach(() => {
  emulator().clearFaults();
  emulator().resetCalls();
});

/** The list the Fetch standard gives (https://fetch.spec.whatwg.org/#bad-port), as the brief states it. */
const STANDARD = [
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
  6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
].map(String);

function guardWith(jwt: Partial<Jwt>, logger?: { warn(line: string): void }): ExpressGuard {
  const base = emulator().guardOptions().jwt as Jwt;
  return track(createExpressGuard({ genauth: emulator().guardOptions().genauth, jwt: { ...base, ...jwt } as Jwt, ...(logger === undefined ? {} : { logger }) }));
}
const build = (jwt: Partial<Jwt>) => () => guardWith(jwt);

describe('the list', () => {
  it("is the Fetch standard's, and undici's (the package's dependency)", () => {
    expect([...FETCH_BAD_PORTS]).toEqual(STANDARD);
    // Read from undici's source to catch a drift when it is upgraded; undici exports no such list.
    const undici = createRequire(import.meta.url)('undici/lib/web/fetch/constants.js') as { badPorts: readonly string[] };
    expect([...FETCH_BAD_PORTS]).toEqual([...undici.badPorts]);
  });

  it('is what the fetch the guard uses (the global fetch of this Node) refuses, without a connection', async () => {
    for (const port of FETCH_BAD_PORTS) {
      const error = await fetch(`http://127.0.0.1:${port}/jwks`).then(() => undefined, (e: unknown) => e);
      expect(String((error as { cause?: { message?: string } } | undefined)?.cause?.message), port).toMatch(/bad port/);
    }
  });
});

describe('jwt.jwksUri on a port fetch refuses', () => {
  it.each(STANDARD)('port %s: a TypeError at construction naming jwt.jwksUri', (port) => {
    // Before the fix: built; every request then a 503 ("could not be used (TypeError)").
    expect(build({ jwksUri: `https://keys.example:${port}/jwks` })).toThrow(TypeError);
    expect(build({ jwksUri: `https://keys.example:${port}/jwks` })).toThrow(/^genauth-guard: option "jwt\.jwksUri" .*port.*fetch refuses/);
    expect(build({ jwksUri: `http://127.0.0.1:${port}/jwks` })).toThrow(/^genauth-guard: option "jwt\.jwksUri" .*port.*fetch refuses/);
  });

  it('the URL is not echoed', () => {
    expect(build({ jwksUri: 'https://keys.example:6668/jwks' })).not.toThrow(/keys\.example|6668/);
  });

  it.each([
    ['the default port', 'https://keys.example/jwks'],
    ['443 written out', 'https://keys.example:443/jwks'],
    ['8443', 'https://keys.example:8443/jwks'],
    ['6664 (next to the IRC ports)', 'https://keys.example:6664/jwks'],
    ['6670', 'https://keys.example:6670/jwks'],
    ['10081', 'https://keys.example:10081/jwks'],
    ['80 over https', 'https://keys.example:80/jwks'],
  ])('%s: accepted', (_what, jwksUri) => {
    expect(build({ jwksUri })).not.toThrow();
  });

  it('over HTTP, the emulator on a refused port: was a 503 on every request, now never built', async () => {
    const jwksUri = 'http://127.0.0.1:6000/oidc/.well-known/jwks.json';
    const lines: string[] = [];
    let guard: ExpressGuard | undefined;
    let refused: unknown;
    try {
      guard = guardWith({ jwksUri }, { warn: (line) => lines.push(line) });
    } catch (error) {
      refused = error;
    }
    if (guard !== undefined) {
      const app = express();
      app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
      const status = (await request(app).get('/me').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status;
      expect.fail(`built; a token answered ${status}, the set-up problem: ${lines.join(' / ')}`);
    }
    expect(refused).toBeInstanceOf(TypeError);
  });
});

describe('discovery: jwt.issuer on a port fetch refuses', () => {
  const discovery = (issuer: string) => build({ jwksUri: undefined, discovery: true, issuer });

  it.each(['6000', '22', '10080'])('port %s: a TypeError at construction naming jwt.issuer', (port) => {
    expect(discovery(`https://issuer.example:${port}/oidc`)).toThrow(TypeError);
    expect(discovery(`https://issuer.example:${port}/oidc`)).toThrow(/^genauth-guard: option "jwt\.issuer" .*port.*fetch refuses/);
  });

  it('an issuer on another port is accepted; without discovery the issuer is only the "iss" to compare', () => {
    expect(discovery('https://issuer.example:8443/oidc')).not.toThrow();
    expect(build({ issuer: 'https://issuer.example:6000/oidc', jwksUri: 'https://keys.example/jwks' })).not.toThrow();
  });
});

describe('a discovered jwks_uri on a port fetch refuses', () => {
  function appWith(lines: string[]) {
    const guard = guardWith({ jwksUri: undefined, discovery: true }, { warn: (line) => lines.push(line) });
    const app = express();
    app.get('/me', guard.authenticate(), (_req, res) => void res.send('ok'));
    return { app, guard };
  }

  it('503, a set-up problem naming jwt.issuer that says why (not "TypeError"), nothing fetched', async () => {
    emulator().fault({ kind: 'respond', status: 200, body: { issuer: emulator().issuer, jwks_uri: 'http://127.0.0.1:6668/oidc/.well-known/jwks.json' }, path: DISCOVERY });
    const lines: string[] = [];
    const { app, guard } = appWith(lines);
    const token = await emulator().mintToken('alice');
    expect((await request(app).get('/me').set('authorization', `Bearer ${token}`)).status).toBe(503);
    // Before the fix: "the OIDC discovery document ... could not be used (TypeError)".
    expect(lines).toEqual([expect.stringMatching(/jwks_uri.*port.*fetch refuses.*check option "jwt\.issuer"/)]);
    expect(lines.join('')).not.toMatch(/TypeError|6668/);
    const error = await guard.ready().then(() => undefined, (e: unknown) => e);
    expect((error as { reasons?: unknown }).reasons).toEqual([expect.objectContaining({ option: 'jwt.issuer', kind: 'key_source_invalid' })]);
    expect(emulator().callCount(JWKS)).toBe(0);
  });

  it('the emulator naming its own jwks_uri still verifies', async () => {
    const { app } = appWith([]);
    expect((await request(app).get('/me').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status).toBe(200);
  });
});
