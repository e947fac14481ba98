/**
 * The HTTP/2 suite's apps: the conformance suite's standard and API-mode apps (same routes, same
 * handlers) served over cleartext HTTP/2 (prior knowledge), for the adapters whose framework serves it:
 * Koa 3 and 2 (`app.callback()` on `node:http2`), Fastify 5 (`http2: true`) and Nest on Fastify. Express
 * 4 and 5 cannot: they replace the request's prototype with one built on HTTP/1's `IncomingMessage`.
 * Each row is paired with the conformance row serving the same app over HTTP/1.1.
 */
import { createServer as createH2Server } from 'node:http2';
import type { Server } from 'node:http';
import Koa from 'koa';
import Koa2 from 'koa2';
import { GenAuthGuardModule, type ApiModeOptions } from '../../src/adapters/nest/index.js';
import type { Guard } from '../../src/core/types.js';
import { apiMode as fastifyApiApp, fastifyRow, standard as fastifyStandardApp } from '../conformance/apps/fastify.js';
import { koa2Row, koaApiApp, koaRow, koaStandardApp, type KoaClass } from '../conformance/apps/koa.js';
import { nestFastifyRow } from '../conformance/apps/nest-fastify.js';
import { runningApp } from '../conformance/apps/running.js';
import type { AdapterRow } from '../conformance/row.js';
import { conformanceApp } from '../nest/app.js';

/** An adapter over HTTP/2 (`h2`) and the same app over HTTP/1.1 (`h1`, the conformance row). */
export interface H2Pair {
  name: string;
  h2: AdapterRow;
  h1: AdapterRow;
  /**
   * Koa does not finish every HEAD response over `node:http2`, guard or not: Koa 2 none (its stream
   * never ends), Koa 3 none that its error handler writes (`ctx.throw`, so a refusal with passErrors).
   * HEAD is compared only where the framework answers it.
   */
  answersHead: boolean;
}

/** Serves a Koa app over cleartext HTTP/2. */
function servedOverH2(app: Koa, core: Guard) {
  return runningApp(createH2Server(app.callback()).listen(0, '127.0.0.1') as unknown as Server, core);
}

function koaH2(name: string, KoaApp: KoaClass): AdapterRow {
  return {
    name,
    start: (fixture) => {
      const { app, guard } = koaStandardApp(KoaApp, fixture);
      return servedOverH2(app, guard.core);
    },
    startApi: (fixture) => {
      const { app, guard } = koaApiApp(KoaApp, fixture);
      return servedOverH2(app, guard.core);
    },
  };
}

const fastifyH2: AdapterRow = { name: 'Fastify 5', start: (fixture) => fastifyStandardApp(fixture, true), startApi: (fixture) => fastifyApiApp(fixture, true) };

const nestFastifyH2: AdapterRow = {
  name: 'Nest 11 (fastify)',
  start: (fixture) => conformanceApp('fastify', GenAuthGuardModule.forRoot(fixture.options), fixture.handled, false, { ...fixture, http2: true }),
  startApi: (fixture) =>
    conformanceApp('fastify', GenAuthGuardModule.forRoot({ ...fixture.options, api: fixture.api as ApiModeOptions }), fixture.handled, true, { ...fixture, http2: true }),
};

export const H2_PAIRS: H2Pair[] = [
  { name: 'Koa 3', h2: koaH2('Koa 3', Koa), h1: koaRow, answersHead: false },
  { name: 'Koa 2', h2: koaH2('Koa 2', Koa2 as unknown as KoaClass), h1: koa2Row, answersHead: false },
  { name: 'Fastify 5', h2: fastifyH2, h1: fastifyRow, answersHead: true },
  { name: 'Nest 11 (fastify)', h2: nestFastifyH2, h1: nestFastifyRow, answersHead: true },
];
