// An option written `audience: process.env.GENAUTH_AUDIENCE` with the variable unset is a key that is
// present with the value undefined. For the options whose absence turns a check off (jwt.audience,
// jwt.issuer, jwt.typ, jwt.requiredClaims, jwt.maxTokenAge, genauth.resourceType, a route's
// resourceType) that silently switched the check off, as a misspelt key once did: a token minted for
// another application passed. Such a key is now a TypeError naming the option; leaving the key out
// stays the way to check nothing. The same for the options whose default chooses whose grants are read
// (genauth.namespace, genauth.userIdType, genauth.tenantId, genauth.tenantHeader, genauth.headerPrefix,
// identity.claim): `namespace: process.env.GENAUTH_NAMESPACE` unset read the space "default"'s grants.
// Where undefined only means the default and the default is the safe one (genauth.host,
// jwt.clockTolerance, a second key source, ...), undefined is still taken as "not set". Over HTTP: the
// emulator, and a route requiring reports:Read on `reports`.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuardOptions } from '../../src/adapters/express.js';
import { createGuard, type GuardOptions } from '../../src/index.js';
import { closeAfterEach, useEmulator } from '../fixtures.js';
import { useReportsApps } from './reports-apps.js';

const emulator = useEmulator();
const appWith = useReportsApps(emulator);
const track = closeAfterEach<ReturnType<typeof createExpressGuard>>();

const genauth = { userPoolId: 'pool', accessKeySecret: 'sk' };
const issuer = 'https://app.genauth.ai/oidc';
const jwksUri = 'https://app.genauth.ai/oidc/.well-known/jwks.json';

function messageOf(options: Record<string, unknown>): string {
  try {
    createGuard(options as unknown as GuardOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return 'accepted';
}

const jwtWith = (extra: Record<string, unknown>) => ({ genauth, jwt: { issuer, jwksUri, algorithms: ['RS256'], ...extra } });

describe('a check-turning-off option present with the value undefined: a TypeError naming it', () => {
  it.each([
    ['jwt.audience', jwtWith({ audience: undefined })],
    ['jwt.issuer', { genauth, jwt: { audience: 'app', jwksUri, algorithms: ['RS256'], issuer: undefined } }],
    ['jwt.typ', jwtWith({ typ: undefined })],
    ['jwt.requiredClaims', jwtWith({ requiredClaims: undefined })],
    ['jwt.maxTokenAge', jwtWith({ maxTokenAge: undefined })],
    ['genauth.resourceType', { genauth: { ...genauth, resourceType: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } }],
  ])('%s: undefined, an unset environment variable?, and leave the key out to check nothing', (option, options) => {
    const message = messageOf(options);
    expect(message.startsWith(`genauth-guard: option "${option}" is set to undefined (an unset environment variable?)`)).toBe(true);
    expect(message).toContain('leave the key out');
  });

  it('jwt.issuer with discovery: says discovery needs it, not that it can be left out', () => {
    const message = messageOf({ genauth, jwt: { discovery: true, issuer: undefined, algorithms: ['RS256'] } });
    expect(message).toMatch(/^genauth-guard: option "jwt\.issuer" is set to undefined \(an unset environment variable\?\)/);
    expect(message).toContain('jwt.discovery');
    expect(message).not.toContain('leave the key out');
  });

  it("a route's resourceType: refused when the route is defined", () => {
    const guard = track(createExpressGuard(emulator().guardOptions()));
    expect(() => guard.requirePermission('reports', 'reports:Read', { resourceType: undefined })).toThrow(TypeError);
    expect(() => guard.requirePermission('reports', 'reports:Read', { resourceType: undefined })).toThrow(
      /^genauth-guard: option "route\.resourceType" is set to undefined \(an unset environment variable\?\).*leave the key out/,
    );
  });
});

describe('jwt.audience over HTTP', () => {
  it('audience: undefined (GENAUTH_AUDIENCE unset) throws at construction instead of taking a token minted for another app', async () => {
    const { genauth: emulated, jwt } = emulator().guardOptions();
    let app: express.Express | undefined;
    let refused: unknown;
    try {
      app = appWith({ genauth: emulated, jwt: { ...jwt, audience: undefined } } as ExpressGuardOptions);
    } catch (error) {
      refused = error;
    }
    if (app !== undefined) {
      // Before: built, with the audience unchecked.
      const foreign = await emulator().mintToken('alice', { audience: 'another-app' });
      const status = (await request(app).get('/reports').set('authorization', `Bearer ${foreign}`)).status;
      expect.fail(`built; a token minted for another app answered ${status}`);
    }
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as Error).message).toMatch(/^genauth-guard: option "jwt\.audience" is set to undefined/);
  });

  it('the key left out is the documented opt-out: built, and the audience is not checked', async () => {
    const { genauth: emulated, jwt } = emulator().guardOptions();
    const { audience: _left, ...noAudience } = jwt;
    const app = appWith({ genauth: emulated, jwt: noAudience });
    const foreign = await emulator().mintToken('alice', { audience: 'another-app' });
    expect((await request(app).get('/reports').set('authorization', `Bearer ${foreign}`)).status).toBe(200);
  });
});

describe('an option whose default chooses whose grants are read, present with the value undefined: a TypeError naming it', () => {
  const genauthWith = (extra: Record<string, unknown>) => ({ genauth: { ...genauth, ...extra }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } });
  it.each([
    ['genauth.namespace', genauthWith({ namespace: undefined }), 'leave the key out'],
    ['genauth.userIdType', genauthWith({ userIdType: undefined }), 'leave the key out'],
    ['genauth.tenantId', genauthWith({ tenantId: undefined }), 'leave the key out'],
    ['genauth.tenantHeader', genauthWith({ tenantId: 't1', tenantHeader: undefined }), 'leave the key out'],
    ['genauth.headerPrefix', genauthWith({ headerPrefix: undefined }), 'leave the key out'],
    ['identity.claim', { ...jwtWith({}), identity: { claim: undefined } }, 'leave the key out'],
  ])('%s: undefined, an unset environment variable?, and leave the key out for the default', (option, options, optOut) => {
    const message = messageOf(options);
    expect(message.startsWith(`genauth-guard: option "${option}" is set to undefined (an unset environment variable?)`)).toBe(true);
    expect(message).toContain(optOut);
  });
});

describe('genauth.namespace over HTTP', () => {
  it('namespace: undefined (GENAUTH_NAMESPACE unset) throws at construction instead of reading the space "default"', async () => {
    // alice reads reports in the space "default"; an app meaning another space must not read those.
    const { genauth: emulated, jwt } = emulator().guardOptions();
    let app: express.Express | undefined;
    let refused: unknown;
    try {
      app = appWith({ genauth: { ...emulated, namespace: undefined }, jwt } as ExpressGuardOptions);
    } catch (error) {
      refused = error;
    }
    if (app !== undefined) {
      // Before: built, reading the grants of "default".
      const status = (await request(app).get('/reports').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status;
      expect.fail(`built; alice answered ${status} from the space "default"`);
    }
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as Error).message).toMatch(/^genauth-guard: option "genauth\.namespace" is set to undefined/);
  });

  it('the key left out is the documented default: the space "default"', async () => {
    const { genauth: { namespace: _left, ...emulated }, jwt } = emulator().guardOptions();
    const app = appWith({ genauth: emulated, jwt });
    expect((await request(app).get('/reports').set('authorization', `Bearer ${await emulator().mintToken('alice')}`)).status).toBe(200);
  });
});

describe('undefined where it means the default, and the default is the safe one: still "not set"', () => {
  it.each([
    ['genauth.host (https://api.genauth.ai)', { genauth: { ...genauth, host: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } }],
    ['genauth.accessKeyId (the user pool id)', { genauth: { ...genauth, accessKeyId: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } }],
    ['genauth.acceptPartialLists (false)', { genauth: { ...genauth, acceptPartialLists: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } }],
    ['jwt.clockTolerance (5 s)', jwtWith({ clockTolerance: undefined })],
    ['a second key source (jwt.secret beside jwt.jwksUri)', jwtWith({ secret: undefined })],
    ['jwt.jwks and jwt.tokenCache', jwtWith({ jwks: undefined, tokenCache: undefined })],
    ['cache, identity, conditions, revocation, warm, getToken', { ...jwtWith({}), cache: undefined, identity: undefined, conditions: undefined, revocation: undefined, warm: undefined, getToken: undefined }],
  ])('%s', (_what, options) => {
    expect(messageOf(options)).toBe('accepted');
  });
});

describe('required options are refused when undefined, saying a variable may be unset', () => {
  it('genauth.userPoolId and genauth.accessKeySecret', () => {
    expect(messageOf({ genauth: { ...genauth, userPoolId: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } })).toBe(
      'genauth-guard: option "genauth.userPoolId" must be a non-empty string; it is undefined (an unset environment variable?)',
    );
    expect(messageOf({ genauth: { ...genauth, accessKeySecret: undefined }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } })).toBe(
      'genauth-guard: option "genauth.accessKeySecret" must be a non-empty string; it is undefined (an unset environment variable?)',
    );
    // An empty string is not undefined: no such guess.
    expect(messageOf({ genauth: { ...genauth, accessKeySecret: '' }, jwt: { issuer, jwksUri, algorithms: ['RS256'] } })).toBe(
      'genauth-guard: option "genauth.accessKeySecret" must be a non-empty string',
    );
  });

  it("a webhook's secret, saying what it is", () => {
    const guard = track(createExpressGuard(emulator().guardOptions()));
    expect(() => guard.webhook({ secret: undefined as unknown as string })).toThrow(
      /^genauth-guard: option "webhook\.secret" must be a string: the secret set on the webhook in GenAuth, 16 characters or more; it is undefined \(an unset environment variable\?\)$/,
    );
    expect(() => guard.webhook({ secret: 42 as unknown as string })).toThrow(
      /^genauth-guard: option "webhook\.secret" must be a string: the secret set on the webhook in GenAuth, 16 characters or more$/,
    );
  });
});
