// The tokens the load generators send: one fixed token, users in rotation, or a new one per request.
import { ALLOWED_USER, CACHE_OFF_USERS, DENIED_USER, ROTATION_USERS, mintHs256, rotationUser } from './common.mjs';

export const tokens = {
  allowed: mintHs256(ALLOWED_USER),
  denied: mintHs256(DENIED_USER),
  forged: mintHs256(ALLOWED_USER, { secret: 'not-the-secret-not-the-secret-not-the-secret!!' }),
  rotation: Array.from({ length: ROTATION_USERS }, (_, i) => mintHs256(rotationUser(i))),
};
let freshCounter = 0;
const rotationCursors = {};

/** The token source of a configuration: one fixed token, 10k users in rotation, or a new one per request. */
export function tokenSource(config) {
  if (config.token === 'rotate' || config.token === 'rotate1k') {
    const n = config.token === 'rotate' ? tokens.rotation.length : CACHE_OFF_USERS;
    // One cursor per configuration across warm-up and rounds: every pass continues the cycle, so a
    // warm-up shorter than one cycle still reaches every user instead of the first few thousand again.
    const cursor = (rotationCursors[config.tokenKey ?? config.id] ??= { i: 0 });
    return () => tokens.rotation[cursor.i++ % n];
  }
  if (config.token === 'fresh') return () => mintHs256(ALLOWED_USER, { jti: `${process.pid}-${++freshCounter}` });
  return () => tokens.allowed;
}

