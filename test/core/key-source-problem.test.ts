// The set-up problem of a failed key source is told by what failed (jose's error classes and codes, the
// guard's own KeySourceError), never by the words of an error's message: jose may reword its messages in
// any release. Each failure is made for real (the emulator's JWKS and discovery routes over loopback,
// jose's createRemoteJWKSet behind the guard's own fetch), then classified twice: as thrown, and with
// every message along its cause chain reworded. Both must name the same kind.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors as joseErrors } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { keySourceProblem, type SetupProblem } from '../../src/core/setup-problems.js';
import type { JwtOptions } from '../../src/options.js';
import { createKeyResolver } from '../../src/token/keys.js';
import { resetEmulator, useEmulator } from '../fixtures.js';

const emulator = useEmulator();
beforeEach(() => resetEmulator(emulator()));

const JWKS = '/oidc/.well-known/jwks.json';
const DISCOVERY = '/oidc/.well-known/openid-configuration';

/** The error `ready()` would get from the key source: a fresh resolver's load, which must reject. */
async function loadFailure(jwt: Partial<JwtOptions>): Promise<unknown> {
  const resolver = createKeyResolver({ algorithms: ['RS256'], audience: 'app', ...jwt } as JwtOptions);
  const error = await resolver.load?.().then(() => undefined, (e: unknown) => e);
  expect(error).toBeDefined();
  return error;
}

/** `error` with the message of it and of every cause under it replaced by words no classifier knows. */
function reworded(error: unknown): unknown {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    Object.defineProperty(current, 'message', { value: `reworded ${depth}`, configurable: true, writable: true });
  }
  return error;
}

/** The problem `error` is classified as, checked to be the same once its messages are reworded. */
function classified(error: unknown, option: string): SetupProblem {
  const asThrown = keySourceProblem(error, option);
  const afterRewording = keySourceProblem(reworded(error), option);
  expect(afterRewording.kind).toBe(asThrown.kind);
  expect(afterRewording.status).toBe(asThrown.status);
  return asThrown;
}

const jwksUri = () => ({ jwksUri: emulator().jwksUri, jwks: { timeoutDuration: 300 } });
const discovery = () => ({ issuer: emulator().issuer, jwks: { timeoutDuration: 300 } });

describe('a key set (jwt.jwksUri) that fails, classified by what failed, not by jose\'s words', () => {
  it.each([
    ['404', 404, 'key_source_status'],
    ['503 (an outage)', 503, 'key_source_status'],
    ['a redirect (302, never followed)', 302, 'key_source_status'],
  ] as const)('answering %s: key_source_status carrying the status', async (_what, status, kind) => {
    emulator().fault({ kind: 'respond', status, headers: { location: '/elsewhere' }, body: '{}', path: JWKS });
    const problem = classified(await loadFailure(jwksUri()), 'jwt.jwksUri');
    expect(problem).toMatchObject({ kind, option: 'jwt.jwksUri', status });
  });

  it('answering a web page: key_source_not_json', async () => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>page</html>', path: JWKS });
    expect(classified(await loadFailure(jwksUri()), 'jwt.jwksUri')).toMatchObject({ kind: 'key_source_not_json', option: 'jwt.jwksUri' });
  });

  it.each([['{"keys":5}'], ['{"hello":"world"}'], ['[]'], ['null']])('answering JSON that is no key set (%s): jose\'s JWKSInvalid, key_source_invalid', async (body) => {
    emulator().fault({ kind: 'respond', status: 200, body, path: JWKS });
    const error = await loadFailure(jwksUri());
    expect(error).toBeInstanceOf(joseErrors.JWKSInvalid);
    const problem = classified(error, 'jwt.jwksUri');
    expect(problem).toMatchObject({ kind: 'key_source_invalid', option: 'jwt.jwksUri' });
    expect(problem.cause).toMatch(/JSON Web Key Set/);
  });

  it("that hangs past jwt.jwks.timeoutDuration: jose's JWKSTimeout, timeout", async () => {
    emulator().fault({ kind: 'hang', path: JWKS });
    const error = await loadFailure(jwksUri());
    expect(error).toBeInstanceOf(joseErrors.JWKSTimeout);
    expect(classified(error, 'jwt.jwksUri')).toMatchObject({ kind: 'timeout', option: 'jwt.jwksUri' });
  });

  it('on a closed port: unreachable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error = await loadFailure({ jwksUri: `http://127.0.0.1:${port}/jwks.json` });
    expect(classified(error, 'jwt.jwksUri')).toMatchObject({ kind: 'unreachable', option: 'jwt.jwksUri' });
  });

  it('answering more than jwt.jwks.maxResponseBytes: key_source_too_large', async () => {
    emulator().fault({ kind: 'respond', status: 200, body: JSON.stringify({ keys: [], padding: 'x'.repeat(4096) }), path: JWKS });
    const error = await loadFailure({ ...jwksUri(), jwks: { maxResponseBytes: 1024 } });
    expect(classified(error, 'jwt.jwksUri')).toMatchObject({ kind: 'key_source_too_large', option: 'jwt.jwksUri' });
  });
});

describe('discovery (jwt.issuer) that fails, classified the same way', () => {
  it('a discovery document that is a web page: key_source_not_json', async () => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>page</html>', path: DISCOVERY });
    expect(classified(await loadFailure(discovery()), 'jwt.issuer')).toMatchObject({ kind: 'key_source_not_json', option: 'jwt.issuer' });
  });

  it('a discovery document answering 404: key_source_status 404', async () => {
    emulator().fault({ kind: 'respond', status: 404, body: '{}', path: DISCOVERY });
    expect(classified(await loadFailure(discovery()), 'jwt.issuer')).toMatchObject({ kind: 'key_source_status', option: 'jwt.issuer', status: 404 });
  });

  it('a discovery document that hangs past jwt.jwks.timeoutDuration: timeout', async () => {
    emulator().fault({ kind: 'hang', path: DISCOVERY });
    expect(classified(await loadFailure(discovery()), 'jwt.issuer')).toMatchObject({ kind: 'timeout', option: 'jwt.issuer' });
  });

  it('the key set it names answering 404 or a web page: the same kinds, under jwt.issuer', async () => {
    emulator().fault({ kind: 'respond', status: 404, body: '{}', path: JWKS, times: 1 });
    expect(classified(await loadFailure(discovery()), 'jwt.issuer')).toMatchObject({ kind: 'key_source_status', option: 'jwt.issuer', status: 404 });
    emulator().fault({ kind: 'respond', status: 200, body: '<html></html>', path: JWKS, times: 1 });
    expect(classified(await loadFailure(discovery()), 'jwt.issuer')).toMatchObject({ kind: 'key_source_not_json', option: 'jwt.issuer' });
  });
});

describe("jose's key-set error classes, as jose itself makes them, with any message", () => {
  it.each([
    ['JWKSInvalid', () => new joseErrors.JWKSInvalid('any words'), 'key_source_invalid'],
    ['JWKSTimeout', () => new joseErrors.JWKSTimeout('any words'), 'timeout'],
  ] as const)('%s', (_name, make, kind) => {
    expect(keySourceProblem(make(), 'jwt.jwksUri').kind).toBe(kind);
  });
});
