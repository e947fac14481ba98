// @bench {"id":"f100","label":"genauth-guard requirePermission, warm cache, 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100"}}
// @bench {"id":"f100-redis","label":"f100 with the shared Redis tier configured (cache.redis): the hot path must not touch Redis","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_REDIS":"1"}}
// @bench {"id":"f10k","label":"genauth-guard requirePermission, warm cache, 10,000 grants (maxEntryBytes 16 MiB)","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n10000","GUARD_MAX_ENTRY_BYTES":"16777216"}}
// @bench {"id":"f100-sub","label":"f100 with a subscriber on the genauth-guard:decision channel","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_SUBSCRIBE":"decision"}}
// @bench {"id":"f100-cb","label":"f100 with an onDecision callback","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_ON_DECISION":"1"}}
// @bench {"id":"f100-otel","label":"f100 with the OpenTelemetry bridge installed (genauth-guard/otel on SDK providers with no span processor and no metric reader: no exporter)","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_OTEL":"1"}}
// @bench {"id":"g","label":"genauth-guard, 10,000 users and tokens in rotation (5 grants each)","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"rot"},"token":"rotate"}
// @bench {"id":"h","label":"genauth-guard, a never-seen token on every request (100 grants)","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100"},"token":"fresh"}
// @bench {"id":"i","label":"genauth-guard, caching off (token and grant caches), one user as in d and e: concurrent requests share one load, 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_CACHE":"off"}}
// @bench {"id":"i-1k","label":"genauth-guard, caching off (token and grant caches), 1,000 users in rotation (no two concurrent requests share a user), 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_CACHE":"off"},"token":"rotate1k"}
// @bench {"id":"i-grants","label":"genauth-guard, `cache: false` alone (no grant cache; verified tokens still cached), one user as in d and e, 100 grants","baseline":"a","checks":["auth","authz"],"env":{"NAMESPACE":"n100","GUARD_CACHE":"grants-off"}}
// The package under test, built (dist/express.js), on the same route as every other Express row.
// GUARD_REDIS=1: with a node-redis client on REDIS_URL (the runner's redis-server) as `cache.redis`.
import diagnostics from 'node:diagnostics_channel';
import express from 'express';
import { createServer } from 'node:http';
import { createExpressGuard } from '../../dist/express.js';
import { ACTION, RESOURCE_OF, ROUTE, announce, payload } from '../lib/common.mjs';
import { guardOptions } from '../lib/guard-options.mjs';

// Observability rows: a subscriber that does nothing, an onDecision that does nothing, or the OTel bridge (below).
if (process.env.GUARD_SUBSCRIBE === 'decision') diagnostics.subscribe('genauth-guard:decision', () => {});
const options = { ...guardOptions(), ...(process.env.GUARD_ON_DECISION === '1' ? { onDecision: () => {} } : {}) };
let redis;
if (process.env.GUARD_REDIS === '1') {
  const { createClient } = await import('redis');
  redis = createClient({ url: process.env.REDIS_URL });
  redis.on('error', () => {});
  await redis.connect();
  options.cache = { ...options.cache, redis };
}
const guard = createExpressGuard(options);
// The OTel row: the bridge on the SDK's providers as an application would build them, minus exporters.
if (process.env.GUARD_OTEL === '1') {
  const [{ instrumentGenAuthGuard }, { BasicTracerProvider }, { MeterProvider }] = await Promise.all([
    import('../../dist/otel.js'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  instrumentGenAuthGuard({ tracerProvider: new BasicTracerProvider(), meterProvider: new MeterProvider(), guards: [guard] });
}
const app = express();
app.get(ROUTE, guard.requirePermission((req) => RESOURCE_OF(req.params.id), ACTION), (req, res) => {
  res.json(payload(req.params.id));
});
announce(createServer(app), () => guard.close().then(() => redis?.destroy()));
