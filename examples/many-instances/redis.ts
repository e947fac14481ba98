// The Redis snippet of docs/many-instances.md, run by test/docs/examples.test.ts against a redis-server.
import { createClient } from 'redis';
import { createExpressGuard, type ExpressGuardOptions } from 'genauth-guard/express';

export async function sharedTier({ genauth, jwt }: ExpressGuardOptions, log = { warn: (_fields: object, _message: string) => {} }) {
  // #region redis
  const redis = createClient({ url: process.env.REDIS_URL }); // your TLS, ACL, Sentinel or Cluster set-up
  redis.on('error', (error) => log.warn({ err: error }, 'redis')); // node-redis requires a listener
  await redis.connect();
  const guard = createExpressGuard({ genauth, jwt, cache: { redis } });

  // After a change in GenAuth (a webhook, an admin action): every instance, not just this one.
  await guard.invalidateUser('alice');
  // #endregion redis
  return { guard, redis };
}
