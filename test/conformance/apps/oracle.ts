/**
 * The API-mode oracle: a bare node:http server that hands `req.url` (the raw target) to the core's
 * `guard.enforceApi` and answers with `problemResponse`. It is what every adapter must be indistinguishable
 * from; it has no routing of its own to disagree with.
 */
import { createServer } from 'node:http';
import { apiModeSpec } from '../../../src/core/enforce/api.js';
import { createGuard } from '../../../src/core/guard.js';
import { asGuardError, problemResponse } from '../../../src/problem.js';
import type { ApiAppFixture, RunningApp } from '../row.js';
import { runningApp } from './running.js';

export async function startOracle(fixture: ApiAppFixture): Promise<RunningApp> {
  const guard = createGuard(fixture.options);
  const spec = apiModeSpec(fixture.api);
  const server = createServer((req, res) => {
    const request = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      remoteAddress: req.socket.remoteAddress,
    };
    // A value, a throw or a promise: all settle the same way here.
    Promise.resolve()
      .then(() => guard.enforceApi(request, spec))
      .then(
      (context) => {
        fixture.handled();
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ ok: true, user: context?.identity.userId ?? null }));
      },
      (error: unknown) => {
        const answer = problemResponse(asGuardError(error));
        res.writeHead(answer.status, answer.headers).end(answer.body);
      },
    );
  });
  return runningApp(server.listen(0, '127.0.0.1'), guard);
}
