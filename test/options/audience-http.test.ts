// The case over real HTTP: `jwt: { audiance: 'my-app' }` was accepted and the audience then
// went unchecked, so a token minted for another app passed. Now the misspelling throws at
// construction, and the correct spelling refuses a foreign audience.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { RESOURCES, useEmulator } from '../fixtures.js';
import { useReportsApps } from './reports-apps.js';

const emulator = useEmulator();
const appWith = useReportsApps(emulator);

describe('a misspelt audience key', () => {
  it('throws at construction, naming the key and the one meant', () => {
    const { genauth, jwt } = emulator().guardOptions();
    const { audience: _dropped, ...noAudience } = jwt;
    expect(() => appWith({ genauth, jwt: { ...noAudience, audiance: 'my-app' } } as never)).toThrow(TypeError);
    expect(() => appWith({ genauth, jwt: { ...noAudience, audiance: 'my-app' } } as never)).toThrow(/"jwt\.audiance".*did you mean "jwt\.audience"\?/);
  });

  it('spelt right, a token minted for another app is a 401 and GenAuth is not asked', async () => {
    const { genauth, jwt } = emulator().guardOptions();
    const app = appWith({ genauth, jwt: { ...jwt, audience: 'my-app' } });
    const foreign = await emulator().mintToken('alice', { audience: 'another-app' });
    const res = await request(app).get('/reports').set('authorization', `Bearer ${foreign}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_INVALID_TOKEN' });
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(emulator().callCount(RESOURCES)).toBe(0);
    // And a token for this app passes.
    const mine = await emulator().mintToken('alice', { audience: 'my-app' });
    expect((await request(app).get('/reports').set('authorization', `Bearer ${mine}`)).status).toBe(200);
  });
});
