// `npm run demo:cluster`: three instances of the Express example sharing one Redis, the GenAuth
// emulator's webhook pointed at the first. Prints curl lines for each instance, then revokes alice's
// grant in the emulator and shows every instance answering 403, with the time from the revocation to
// the last instance's 403. Flags: --revoke (the default; --no-revoke only prints), --exit (stop after
// the revocation instead of serving until Ctrl+C). Exit status 1 if an instance did not deny in time.
import { printDemo, seedDemoTenant } from '../shared/demo-tenant.mjs';
import { startCluster, startServer, untilStatus } from './cluster.mjs';

const BOUND_MS = 5000; // the script gives up (exit 1) if an instance still allows after this long
const flags = new Set(process.argv.slice(2));
const revoke = !flags.has('--no-revoke');
const exitAfter = flags.has('--exit');

let cluster;
const stop = async (code) => {
  await cluster?.close();
  process.exit(code);
};
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));
const giveUp = setTimeout(() => {
  console.error('timed out: stopping');
  void stop(1);
}, 60_000);
giveUp.unref();

try {
  cluster = await startCluster({ instances: 3 });
} catch (error) {
  console.error(`could not start the cluster: ${error.message}`);
  console.error('It needs `npm run build` and redis-server on the PATH (or REDIS_SERVER=/path/to/redis-server).');
  process.exit(1);
}
const { emulator, instances } = cluster;
seedDemoTenant(emulator);
console.log(`redis-server on ${cluster.redis.url}; GenAuth's webhook -> ${cluster.webhookUrl} (instance 1 only)\n`);
for (const [i, instance] of instances.entries()) {
  await printDemo({ framework: `Express (instance ${i + 1} of ${instances.length})`, base: instance.url, emulator, footer: '' });
  console.log('');
}

if (revoke) {
  const alice = await emulator.mintToken('alice', { expiresIn: 3600 });
  const before = await Promise.all(instances.map((instance) => startServer(instance.url, alice)));
  console.log(`alice on each instance before: ${before.join(' ')} (each has her grants cached now)`);
  const since = performance.now();
  emulator.setGrants('alice', []); // the emulator posts permission:revoke to instance 1
  let failed = false;
  const waits = await Promise.all(
    instances.map((instance) =>
      untilStatus(instance.url, alice, 403, since, BOUND_MS).catch((error) => {
        failed = true;
        console.error(error.message);
        return NaN;
      }),
    ),
  );
  await emulator.webhooksSettled();
  const delivery = emulator.webhookDeliveries.at(-1);
  console.log(`revoked alice's grant in GenAuth; webhook ${delivery?.eventName} -> instance 1: ${delivery?.status}`);
  for (const [i, ms] of waits.entries()) console.log(`instance ${i + 1} (${instances[i].url}): 403 after ${ms.toFixed(1)} ms`);
  if (failed) await stop(1);
  console.log(`every instance answered 403 within ${Math.max(...waits).toFixed(1)} ms of the revocation`);
}
if (exitAfter) await stop(0);
clearTimeout(giveUp); // started and revoked: serve the curl lines until Ctrl+C
console.log('\nPress Ctrl+C to stop.');
