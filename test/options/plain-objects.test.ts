// An options object is read as its own properties, once. The `jwt` group was checked through its
// properties (inherited ones included) and then copied with a spread (own ones only): an audience or
// issuer given by a class getter, or inherited, passed the checks and was then dropped, so a token
// minted for another app passed. A Map's entries were ignored the same way (its keys are not
// properties), and a polluted Object.prototype could fill any option the user left out.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { useReportsApps } from './reports-apps.js';

const emulator = useEmulator();
const appWith = useReportsApps(emulator);

/** The guard's answer to a token minted for another app, or the TypeError its options raised. */
async function foreignAudience(jwt: object): Promise<number | string> {
  let app;
  try {
    app = appWith({ genauth: emulator().guardOptions().genauth, jwt } as never);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  const foreign = await emulator().mintToken('alice', { audience: 'another-app' });
  return (await request(app).get('/reports').set('authorization', `Bearer ${foreign}`)).status;
}

describe('an audience the checks read is the audience the verifier gets', () => {
  it('a class whose getter gives the audience: refused, never a token for another app taken', async () => {
    const { jwksUri, issuer } = emulator().guardOptions().jwt;
    class JwtConfig {
      algorithms = ['RS256'];
      jwksUri = jwksUri;
      issuer = issuer;
      get audience() {
        return 'my-app';
      }
    }
    const answer = await foreignAudience(new JwtConfig());
    expect(answer).toEqual(expect.stringMatching(/^genauth-guard: option "jwt" must be a plain object/));
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('an inherited audience: refused', async () => {
    const { audience, ...rest } = emulator().guardOptions().jwt;
    const answer = await foreignAudience(Object.assign(Object.create({ audience: 'my-app' }), rest));
    expect(answer).toEqual(expect.stringMatching(/^genauth-guard: option "jwt" must be a plain object/));
    expect(audience).toBeDefined();
  });

  it('an own getter is read once', async () => {
    const { audience: _a, ...rest } = emulator().guardOptions().jwt;
    let reads = 0;
    const jwt = { ...rest, get audience() { return reads++ === 0 ? 'my-app' : undefined; } };
    expect(await foreignAudience(jwt)).toBe(401);
  });
});

describe('objects that are not plain', () => {
  const genauth = { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeySecret: 'sk' };
  const jwt = { jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'] as ['RS256'] };

  it.each<[string, () => unknown]>([
    ['identity', () => resolveOptions({ genauth, jwt, identity: new Map([['claim', 'email']]) } as never)],
    ['cache', () => resolveOptions({ genauth, jwt, cache: new Map([['ttl', 5]]) } as never)],
    ['options', () => resolveOptions(new Map([['genauth', genauth]]) as never)],
    ['genauth', () => resolveOptions({ genauth: new (class { host = genauth.host; userPoolId = 'pool'; accessKeySecret = 'sk'; })(), jwt } as never)],
  ])('%s: a Map or a class instance is refused, not read as empty', (path, run) => {
    expect(run).toThrow(TypeError);
    expect(run).toThrow(new RegExp(`^genauth-guard: option "${path}" must be a plain object`));
  });

  it('an object without a prototype is plain', () => {
    const options = resolveOptions(Object.assign(Object.create(null), { genauth, jwt, identity: Object.assign(Object.create(null), { claim: 'uid' }) }));
    expect(options.identity.claim).toBe('uid');
  });

  it('a polluted Object.prototype fills no option', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.host = 'http://attacker.test';
    proto.clockTolerance = 1e9;
    try {
      const options = resolveOptions({ genauth: { userPoolId: 'pool', accessKeySecret: 'sk' }, jwt });
      expect(options.genauth.host).toBe('https://api.genauth.ai');
      expect(options.jwt?.clockTolerance).toBe(5);
    } finally {
      delete proto.host;
      delete proto.clockTolerance;
    }
  });
});
