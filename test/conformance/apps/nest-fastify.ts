/** Conformance row for NestJS 11 on @nestjs/platform-fastify (the app lives in test/nest/app.ts). */
import { GenAuthGuardModule, type ApiModeOptions } from '../../../src/adapters/nest/index.js';
import { conformanceApp } from '../../nest/app.js';
import type { AdapterRow } from '../row.js';

export const nestFastifyRow: AdapterRow = {
  name: 'Nest 11 (fastify)',
  start: (fixture) => conformanceApp('fastify', GenAuthGuardModule.forRoot(fixture.options), fixture.handled, false, fixture),
  startApi: (fixture) => conformanceApp('fastify', GenAuthGuardModule.forRoot({ ...fixture.options, api: fixture.api as ApiModeOptions }), fixture.handled, true, fixture),
};
