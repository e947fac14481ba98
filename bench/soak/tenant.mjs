// The soak's tenant on the emulator: thousands of users with a few grants each, one RS256 token per
// user, a set of tokens the guard must refuse, and the grant changes made during the run.
import { generateSigningKey } from 'genauth-guard/testing';

export const SERVERS = 100;
const FILLER_GRANTS = 5;

export const userId = (i) => `soak-user-${i}`;
/** The server a user may start (ecs:Start on ecs:<n>); any other server id is denied. */
export const serverOf = (i) => i % SERVERS;
/** Two users in three may read reports. */
export const readsReports = (i) => i % 3 !== 0;
/** One user in five is "churning": its grants are switched off and on during the run. */
export const churns = (i) => i % 5 === 0;

function grantsOf(i) {
  const grants = [
    { resourceCode: `ecs:${serverOf(i)}`, resourceType: 'API', actions: ['ecs:Start'], apiIdentifier: '/api/v1/servers/:id/start' },
  ];
  if (readsReports(i)) grants.push({ resourceCode: 'reports', actions: ['reports:Read'] });
  for (let k = 0; k < FILLER_GRANTS; k++) grants.push({ resourceCode: `doc:${i}-${k}`, actions: ['doc:Read'] });
  return grants;
}

/**
 * Seeds `users` users and mints their tokens (RS256, the emulator's JWKS key, valid for `lifetime`
 * seconds). `granted[i]` is what the emulator currently serves for user i: its grants, or none.
 */
export async function seedTenant(emulator, { users, lifetime }) {
  const granted = new Array(users).fill(true);
  for (let i = 0; i < users; i++) emulator.setGrants(userId(i), grantsOf(i));
  const tokens = new Array(users);
  const batch = 64; // WebCrypto signs on the thread pool: a batch in flight keeps both cores busy
  for (let i = 0; i < users; i += batch) {
    const ids = Array.from({ length: Math.min(batch, users - i) }, (_, k) => i + k);
    const minted = await Promise.all(ids.map((j) => emulator.mintToken(userId(j), { expiresIn: lifetime })));
    minted.forEach((token, k) => { tokens[i + k] = token; });
  }
  return { users, tokens, granted, invalidTokens: await invalidTokens(emulator, lifetime) };
}

/** Tokens the guard must answer 401: a foreign key, expired, another audience, not a JWT. */
async function invalidTokens(emulator, lifetime) {
  const foreign = await generateSigningKey('RS256');
  const now = Math.floor(Date.now() / 1000);
  const out = [];
  for (let k = 0; k < 16; k++) {
    const user = userId(k);
    out.push(await emulator.mintToken(user, { key: foreign.privateKey, expiresIn: lifetime, claims: { jti: `forged-${k}` } }));
    out.push(await emulator.mintToken(user, { claims: { iat: now - 7200, exp: now - 3600, jti: `expired-${k}` } }));
    out.push(await emulator.mintToken(user, { audience: 'another-app', expiresIn: lifetime, claims: { jti: `aud-${k}` } }));
    out.push(`not-a-jwt-${k}`);
  }
  return out;
}

/**
 * Flips `count` churning users (grants off, or back on), picked from the first `among` users so the
 * change is seen soon. Returns their ids.
 */
export function flipGrants(emulator, tenant, { count, among, random }) {
  const changed = [];
  for (let n = 0; n < count * 20 && changed.length < count; n++) {
    const i = Math.floor(random() * Math.min(among, tenant.users));
    if (!churns(i) || changed.includes(i)) continue;
    tenant.granted[i] = !tenant.granted[i];
    emulator.setGrants(userId(i), tenant.granted[i] ? grantsOf(i) : []);
    changed.push(i);
  }
  return changed;
}
