// The Redis tier's rows of `npm run bench` (also `node bench/redis.mjs` after `npm run build`): prints
// a markdown section. Needs redis-server (skipped with a note without it). Two measurements:
// 1. A local miss served from Redis against the same miss served from GenAuth: `check()` (the grant
//    load and the decision, no HTTP, no token) for users no guard in the process has cached. Writer
//    guard W loads USERS users from GenAuth (the emulator, in this process, over loopback HTTP),
//    which writes them to Redis; then, user by user, guard R (Redis tier, same scope) and guard G (no
//    Redis) each check the user once: R's is a Redis hit, G's a GenAuth call.
// 2. Invalidation across three instances (examples/cluster: three Express processes, one Redis, the
//    emulator's webhook on the first): ROUNDS times, alice's grant is revoked in the emulator and every
//    instance polled (1 ms apart) until it answers 403; the time from the change to each 403.
import { createClient } from 'redis';
import { createExpressGuard } from '../dist/express.js';
import { startEmulator } from '../dist/testing.js';
import { startCluster, untilStatus } from '../examples/cluster/cluster.mjs';
import { startRedis } from '../examples/cluster/redis.mjs';
import { ACTION, RESOURCE_OF, TARGET_ID } from './lib/common.mjs';
import { grantList } from './lib/fixtures.mjs';

const USERS = Number(process.env.BENCH_REDIS_USERS ?? 400);
const ROUNDS = Number(process.env.BENCH_REDIS_ROUNDS ?? 100);
const GRANTS = 100;
const GRANTS_PATH = '/api/v3/get-user-authorized-resources';

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (value) => value.toFixed(2);
const summary = (values) => `${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} | ${ms(Math.max(...values))}`;

async function localMiss(redisUrl) {
  const emulator = await startEmulator();
  const clients = [];
  const guards = [];
  const guard = async (redis) => {
    let client;
    if (redis) {
      client = createClient({ url: redisUrl });
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
    }
    const made = createExpressGuard({ ...emulator.guardOptions(), logger: false, ...(client ? { cache: { redis: client } } : {}) });
    guards.push(made);
    return made;
  };
  try {
    const users = Array.from({ length: USERS }, (_, i) => `miss-${i}`);
    for (const user of users) emulator.setGrants(user, grantList(GRANTS));
    const question = (userId) => ({ userId, resource: RESOURCE_OF(TARGET_ID), action: ACTION });
    const writer = await guard(true);
    for (const user of users) if (!(await writer.check(question(user))).allowed) throw new Error(`${user} denied`);
    const [fromRedis, fromGenAuth] = [await guard(true), await guard(false)];
    const times = { redis: [], genauth: [] };
    const callsBefore = emulator.callCount(GRANTS_PATH);
    for (const user of users) {
      for (const [name, reader] of [['redis', fromRedis], ['genauth', fromGenAuth]]) {
        const start = performance.now();
        const decision = await reader.check(question(user));
        times[name].push(performance.now() - start);
        if (!decision.allowed) throw new Error(`${name}: ${user} denied`);
      }
    }
    const hits = fromRedis.cacheStats().redis?.hits ?? 0;
    const calls = emulator.callCount(GRANTS_PATH) - callsBefore;
    if (hits !== USERS || calls !== USERS) throw new Error(`expected ${USERS} Redis hits and ${USERS} GenAuth calls, got ${hits} and ${calls}`);
    return times;
  } finally {
    await Promise.all(guards.map((made) => made.close()));
    for (const client of clients) client.destroy();
    await emulator.close();
  }
}

async function invalidation() {
  const cluster = await startCluster({ instances: 3 });
  try {
    const { emulator, instances } = cluster;
    const grant = [{ resourceCode: 'ecs:1', resourceType: 'API', actions: ['ecs:Start'] }];
    emulator.setGrants('alice', grant);
    const alice = await emulator.mintToken('alice', { expiresIn: 3600 });
    const perInstance = instances.map(() => []);
    const last = [];
    for (let round = 0; round < ROUNDS; round++) {
      emulator.setGrants('alice', grant); // permission:add: a webhook too, which flushes her again
      await emulator.webhooksSettled();
      await Promise.all(instances.map((instance) => untilStatus(instance.url, alice, 200, performance.now(), 5000, 1)));
      const since = performance.now();
      emulator.setGrants('alice', []);
      const waits = await Promise.all(instances.map((instance) => untilStatus(instance.url, alice, 403, since, 5000, 1)));
      waits.forEach((wait, i) => perInstance[i].push(wait));
      last.push(Math.max(...waits));
      await emulator.webhooksSettled();
    }
    return { perInstance, last };
  } finally {
    await cluster.close();
  }
}

let redis;
try {
  redis = await startRedis();
} catch (error) {
  console.log(`## Redis tier\n\nskipped: ${error.message} (redis-server is needed)`);
  process.exit(0);
}
try {
  const miss = await localMiss(redis.url);
  const inv = await invalidation();
  console.log(`## Redis tier (bench/redis.mjs, ${new Date().toISOString()}, ${process.version})

A local miss (\`check()\`, ${GRANTS} grants, ${USERS} users each asked once; ms):

| served from | p50 | p99 | max |
|---|---|---|---|
| Redis (another guard wrote it) | ${summary(miss.redis)} |
| GenAuth (the emulator, same process, loopback HTTP) | ${summary(miss.genauth)} |

Invalidation across three instances (${ROUNDS} revocations in the emulator, its webhook to instance 1,
the others through Redis Pub/Sub; ms from the change to the instance's first 403, polled 1 ms apart):

| instance | p50 | p99 | max |
|---|---|---|---|
${inv.perInstance.map((values, i) => `| ${i + 1}${i === 0 ? ' (receives the webhook)' : ''} | ${summary(values)} |`).join('\n')}
| the last of the three | ${summary(inv.last)} |`);
} finally {
  redis.stop();
}
