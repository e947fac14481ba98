// The soak's server under test: the Express example app (examples/express/app.mjs, imported as is)
// behind a guard configured from the environment, the way a deployment reads its GenAuth settings
// (the names of the README's Express snippet, plus the GenAuth host, the key set and the caches).
// Started by bench/soak.mjs with an IPC channel and --expose-gc: it answers memory samples and
// invalidations, and exits when the driver goes away.
import { createExpressGuard } from 'genauth-guard/express';
import { buildApp } from '../../examples/express/app.mjs';

function env(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`missing environment variable ${name}\n`);
    process.exit(2);
  }
  return value;
}
const optionalNumber = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
const defined = (object) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));

const guard = createExpressGuard({
  genauth: {
    host: env('GENAUTH_HOST'),
    userPoolId: env('GENAUTH_USER_POOL_ID'),
    accessKeyId: env('GENAUTH_ACCESS_KEY_ID'),
    accessKeySecret: env('GENAUTH_ACCESS_KEY_SECRET'),
    namespace: 'default',
  },
  jwt: {
    issuer: env('GENAUTH_ISSUER'),
    audience: env('GENAUTH_AUDIENCE'),
    jwksUri: env('GENAUTH_JWKS_URI'),
    algorithms: ['RS256'],
    tokenCache: defined({ max: optionalNumber('GUARD_TOKEN_CACHE_MAX') }),
  },
  cache: defined({ max: optionalNumber('GUARD_CACHE_MAX'), ttl: optionalNumber('GUARD_CACHE_TTL') }),
});

const server = buildApp(guard).listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port });
});

process.on('message', async (message) => {
  if (message.type === 'sample') {
    // Two full GCs first (--expose-gc; the second compacts what the first left), so two samples compare
    // what is still held, not garbage. The heap is read right after them, the RSS half a second later:
    // V8 returns the pages a GC freed to the system on a background task, and an RSS read at once
    // still counts a random share of them (one GC and an RSS read at once spread one 60 s run's samples
    // over 115-186 MiB; this way a run's samples after 10 s stay within about 10 % of each other).
    if (message.gc) {
      globalThis.gc?.();
      globalThis.gc?.();
    }
    const memory = process.memoryUsage();
    if (message.gc) await new Promise((resolve) => setTimeout(resolve, 500));
    memory.rss = process.memoryUsage.rss();
    process.send({ type: 'sample', id: message.id, memory, cache: guard.core.cacheStats() });
  } else if (message.type === 'invalidate') {
    // What a GenAuth webhook handler would do after a grant change.
    for (const userId of message.userIds) guard.invalidateUser(userId);
  }
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  guard.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
