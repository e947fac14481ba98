// Shared by the example demos: the emulator tenant they run on, the lines they print, and a clean stop.

/** Seeds alice (may ecs:Start on ecs:1) and bob (may only read reports). */
export function seedDemoTenant(emulator) {
  emulator.setGrants('alice', [
    { resourceCode: 'ecs:1', resourceType: 'API', actions: ['ecs:Start'], apiIdentifier: '/api/v1/servers/:id/start' },
  ]);
  emulator.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
}

/** Mints an hour-long token per user and prints them with ready-to-paste curl lines for 200, 401, 403. */
export async function printDemo({ framework, base, emulator, footer = '\nPress Ctrl+C to stop.' }) {
  const alice = await emulator.mintToken('alice', { expiresIn: 3600 });
  const bob = await emulator.mintToken('bob', { expiresIn: 3600 });
  console.log(`genauth-guard ${framework} demo: API on ${base}, GenAuth emulator on ${emulator.url}

alice (may ecs:Start on ecs:1): ${alice}
bob   (may not):                ${bob}

# 200: alice starts server 1
curl -i -X POST ${base}/api/v1/servers/1/start -H 'Authorization: Bearer ${alice}'
# 401: no token
curl -i -X POST ${base}/api/v1/servers/1/start
# 403: bob lacks ecs:Start
curl -i -X POST ${base}/api/v1/servers/1/start -H 'Authorization: Bearer ${bob}'${footer}`);
}

/** Runs `close` (server, guard, emulator) on Ctrl+C or SIGTERM, then exits. */
export function stopOnSignal(close) {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
