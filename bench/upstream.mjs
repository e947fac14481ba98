// The upstream every GenAuth-backed configuration calls: the package's own emulator
// (genauth-guard/testing, a real HTTP server), in its own process so it never competes with a server
// for the same event loop. A second, tiny control server lets the runner read the emulator's call
// counts and seed users; it is never touched during a measurement.
import { createServer } from 'node:http';
import { startEmulator } from '../dist/testing.js';
import {
  ACCESS_KEY_ID, ACCESS_KEY_SECRET, ALLOWED_USER, CACHE_OFF_USERS, DENIED_USER, HOST, JWT_SECRET, ROTATION_GRANTS, ROTATION_USERS,
  USER_POOL_ID, namespaceOf, rotationUser,
} from './lib/common.mjs';
import { grantList } from './lib/fixtures.mjs';

const GRANTS_PATH = '/api/v3/get-user-authorized-resources';

const emulator = await startEmulator({
  userPoolId: USER_POOL_ID,
  accessKeyId: ACCESS_KEY_ID,
  accessKeySecret: ACCESS_KEY_SECRET,
  hs256Secret: JWT_SECRET,
});

for (const n of [100, 10_000]) {
  emulator.setGrants(ALLOWED_USER, grantList(n), { namespace: namespaceOf(n) });
  emulator.setGrants(DENIED_USER, [], { namespace: namespaceOf(n) });
}
const rotation = grantList(ROTATION_GRANTS);
for (let i = 0; i < ROTATION_USERS; i++) emulator.setGrants(rotationUser(i), rotation, { namespace: 'rot' });
emulator.setGrants(DENIED_USER, [], { namespace: 'rot' });
// The first 1,000 of them also hold the 100-grant list, for the caching-off row (one load per request).
const hundred = grantList(100);
for (let i = 0; i < CACHE_OFF_USERS; i++) emulator.setGrants(rotationUser(i), hundred, { namespace: namespaceOf(100) });

// The emulator keeps every call; fold them into counters so a long run stays small.
const totals = { all: 0, grants: 0, byUser: new Map() };
function fold() {
  for (const call of emulator.calls) {
    totals.all++;
    if (call.path === GRANTS_PATH) {
      totals.grants++;
      if (call.userId !== undefined) totals.byUser.set(call.userId, (totals.byUser.get(call.userId) ?? 0) + 1);
    }
  }
  emulator.resetCalls();
}

const control = createServer((req, res) => {
  const url = new URL(req.url, 'http://control');
  let body;
  if (url.pathname === '/stats') {
    fold();
    const user = url.searchParams.get('userId');
    body = { calls: totals.all, grantCalls: totals.grants, ...(user ? { userCalls: totals.byUser.get(user) ?? 0 } : {}) };
  } else if (url.pathname === '/seed') {
    // A user never seen before (the cold-burst check), with the 100-grant list.
    emulator.setGrants(url.searchParams.get('userId'), grantList(100), { namespace: url.searchParams.get('namespace') });
    body = { ok: true };
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
control.listen(0, HOST, () => {
  process.stdout.write(`READY ${new URL(emulator.url).port} ${control.address().port}\n`);
});
const stop = () => emulator.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
