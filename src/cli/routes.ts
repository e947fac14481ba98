/** `genauth-guard routes ./app.js`: the routes of an app module that nothing of genauth-guard guards. */
import { routeLine } from '../adapters/report/routes.js';
import type { Command } from './command.js';
import { CommandError, EXIT, UsageError } from './exit-codes.js';
import { detectFramework, reportFor } from './frameworks.js';
import { printable, toJson, type Io } from './io.js';
import { loadFailure, loadModuleExport } from './load-module.js';

type Loose = Record<string, (...args: unknown[]) => unknown>;

/**
 * Runs the app's start-up (`ready()`, `init()`); its failure is told as a load failure is (an engine
 * error by its name and line only: a plugin's JSON.parse of a secrets file quotes the file).
 */
async function startApp(start: () => unknown, path: string, file: string, what: string): Promise<void> {
  try {
    await start();
  } catch (error) {
    throw new CommandError(`${path}: ${what} failed: ${loadFailure(error, file)}`, EXIT.FAILED);
  }
}

export const routesCommand: Command = {
  name: 'routes',
  summary: "Lists the routes of an app module that no genauth-guard middleware, hook or decorator guards.",
  usage: 'genauth-guard routes <app-module> [--json]',
  flags: {
    json: { type: 'boolean', help: '--json               print { framework, unguarded: [{ method, path, reason? }] } as JSON' },
  },
  positionals: { min: 1, max: 1, name: 'the app module (a path)' },
  details: [
    'The module (ESM or CommonJS) exports the app, as default or as `app`, without listening (a promise of it',
    'is awaited). Express 4/5 apps and routers, Koa apps and @koa/router routers, Fastify instances (the',
    'genauth-guard plugin registered before the routes; the CLI awaits ready()) and Nest applications (the',
    'CLI calls init()) are recognised. Public paths of API mode and @Public() routes are not listed. A route',
    'whose own guard comes after another of its handlers (or hooks) is listed as `GET /p (handler-before-guard)`.',
    '',
    'Exit codes: 0 every route is guarded, 1 unguarded routes found, 2 usage error (no such file, no app export,',
    'not an app of a known framework).',
    '',
    'Example: genauth-guard routes ./dist/app.js --json',
  ].join('\n'),
  async run(values, [path], io: Io) {
    io.progress(`loading ${path}`);
    const loaded = await loadModuleExport(path as string, 'app', 'app');
    const app = loaded.value;
    const framework = detectFramework(app);
    if (framework === undefined) {
      throw new UsageError(`${path}'s ${loaded.exportName} export is not an Express, Koa, Fastify or Nest app`);
    }
    const loose = app as Loose;
    if (framework === 'fastify') {
      io.progress('waiting for fastify.ready()');
      await startApp(() => loose.ready?.(), path as string, loaded.file, 'fastify.ready()');
      // Without the plugin nothing recorded the routes: every one of them is unguarded, fail closed.
      if ((app as { genauth?: unknown }).genauth === undefined) {
        throw new CommandError(`${path}: the genauth-guard plugin is not registered on this Fastify instance, so no route is guarded (register it before the routes)`, EXIT.FAILED);
      }
    }
    if (framework === 'nest') {
      io.progress('initialising the Nest application');
      await startApp(() => loose.init?.(), path as string, loaded.file, 'init()');
    }
    try {
      const report = await reportFor(loaded.file, framework, loaded.kind);
      const unguarded = report(app as never);
      if (values.json === true) io.out(toJson({ framework, unguarded }));
      else for (const route of unguarded) io.out(printable(routeLine(route)));
      io.progress(unguarded.length === 0 ? `${framework}: every route is guarded` : `${framework}: ${unguarded.length} unguarded route(s)`);
      return unguarded.length === 0 ? EXIT.OK : EXIT.FAILED;
    } finally {
      if (framework === 'fastify' || framework === 'nest') await loose.close?.();
    }
  },
};
