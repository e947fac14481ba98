/**
 * Which framework an exported app belongs to, and that framework's `unguardedRoutes` from the copy of
 * genauth-guard the app itself loads (resolved from the app's file, in the app's module format): the
 * Fastify report reads routes its plugin recorded, and the Nest report recognises GenAuthGuard by
 * class, so only the app's own copy sees them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UnguardedRoute } from '../adapters/report/routes.js';

export type Framework = 'express' | 'koa' | 'fastify' | 'nest';

type Loose = Record<string, unknown>;
const isFunction = (value: unknown): boolean => typeof value === 'function';

/** The framework of an app (or an Express/Koa router), or undefined when it is none we know. */
export function detectFramework(app: unknown): Framework | undefined {
  if ((typeof app !== 'object' && typeof app !== 'function') || app === null) return undefined;
  const a = app as Loose;
  if (isFunction(a.getHttpAdapter) && isFunction(a.init) && isFunction(a.get)) return 'nest';
  if (isFunction(a.printRoutes) && isFunction(a.ready)) return 'fastify';
  if (Array.isArray(a.middleware) && isFunction(a.callback)) return 'koa';
  if (typeof app === 'object' && Array.isArray(a.stack) && isFunction(a.routes)) return 'koa'; // an @koa/router Router
  if (typeof app === 'function' && isFunction(a.use) && isFunction(a.handle)) return 'express'; // an app or a Router
  return undefined;
}

type Report = (app: never) => UnguardedRoute[];

/** The entry file of `genauth-guard/<framework>` in the package copy `file` resolves, for its module format. */
function entryFrom(file: string, framework: Framework, kind: 'esm' | 'cjs'): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(file).resolve('genauth-guard/package.json');
  } catch {
    return undefined;
  }
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, Record<string, { default?: string }>> }).exports;
  const target = exports?.[`./${framework}`]?.[kind === 'esm' ? 'import' : 'require']?.default;
  if (target === undefined) return undefined;
  const entry = join(dirname(manifest), target);
  return existsSync(entry) ? entry : undefined;
}

/** `unguardedRoutes` of the app's own genauth-guard copy; this CLI's copy when the app's file resolves none. */
export async function reportFor(file: string, framework: Framework, kind: 'esm' | 'cjs'): Promise<Report> {
  const entry = entryFrom(file, framework, kind);
  let module: { unguardedRoutes?: unknown };
  if (entry !== undefined && kind === 'cjs') module = createRequire(file)(entry) as typeof module;
  else if (entry !== undefined) module = (await import(pathToFileURL(entry).href)) as typeof module;
  else module = (await import(`genauth-guard/${framework}`)) as typeof module;
  if (typeof module.unguardedRoutes !== 'function') throw new Error(`genauth-guard/${framework} has no unguardedRoutes`);
  return module.unguardedRoutes as Report;
}
