/**
 * `unguardedRoutes(app)` for Nest: every controller route Nest registered (from its modules container)
 * that GenAuthGuard does not cover and that is not `@Public()`. GenAuthGuard covers a route when it
 * applies to it, globally (`APP_GUARD`, as `GenAuthGuardModule` registers it, or
 * `app.useGlobalGuards`) or through `@UseGuards(GenAuthGuard)` on the controller or the handler: it then
 * decides every such route (its permission decorator, or the module's `defaultPolicy`, which refuses or
 * asks for a token, never lets a caller through unchecked).
 */
import 'reflect-metadata';
import { GUARDS_METADATA, METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod, VERSION_NEUTRAL, VersioningType, type VersioningOptions } from '@nestjs/common';
import { APP_GUARD, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { joinRoute, sortRoutes, warnRoutes, type UnguardedRoute, type WarnLogger } from '../report/routes.js';
import { GENAUTH_ROUTE_POLICY } from './constants.js';
import type { RoutePolicy } from './decorators.js';
import { GenAuthGuard } from './guard.js';

/** The part of a Nest application the report reads. */
export interface NestAppLike {
  get(token: unknown): unknown;
}

/** What the report reads of Nest's ApplicationConfig (private to the app; read defensively). */
interface AppConfigLike {
  getGlobalPrefix?(): string;
  getVersioning?(): VersioningOptions | undefined;
  getGlobalGuards?(): unknown[];
  getGlobalRequestGuards?(): Array<{ instance?: unknown; metatype?: unknown }>;
}

interface ModuleLike {
  metatype?: unknown;
  controllers: Map<unknown, { metatype?: unknown }>;
  providers: Map<unknown, { instance?: unknown; metatype?: unknown; inject?: unknown }>;
}

type Guards = readonly unknown[] | undefined;

function isGenAuthGuard(guard: unknown): boolean {
  if (guard instanceof GenAuthGuard) return true;
  return typeof guard === 'function' && (guard === GenAuthGuard || guard.prototype instanceof GenAuthGuard);
}

const has = (guards: Guards) => guards !== undefined && guards.some(isGenAuthGuard);

/** A global GenAuthGuard: `app.useGlobalGuards(...)` or an `APP_GUARD` provider in any module. */
function globalGuard(config: AppConfigLike | undefined, modules: Iterable<ModuleLike>): boolean {
  if (has(config?.getGlobalGuards?.())) return true;
  if ((config?.getGlobalRequestGuards?.() ?? []).some((wrapper) => isGenAuthGuard(wrapper.instance) || isGenAuthGuard(wrapper.metatype))) return true;
  for (const module of modules) {
    for (const [token, wrapper] of module.providers) {
      if (typeof token === 'string' && token.startsWith(APP_GUARD) && (isGenAuthGuard(wrapper.instance) || isGenAuthGuard(wrapper.metatype))) return true;
    }
  }
  return false;
}

function paths(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((p): p is string => typeof p === 'string');
  return typeof value === 'string' ? [value] : ['/'];
}

/** The URI version segments of a route (`['v1']`, `['']` when version-neutral or unversioned). */
function versionSegments(versioning: VersioningOptions | undefined, handler: object, controller: object): string[] {
  if (versioning?.type !== VersioningType.URI) return [''];
  const version: unknown = Reflect.getMetadata(VERSION_METADATA, handler) ?? Reflect.getMetadata(VERSION_METADATA, controller) ?? versioning.defaultVersion;
  if (version === undefined) return [''];
  const prefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
  return (Array.isArray(version) ? version : [version]).map((v) => (v === VERSION_NEUTRAL ? '' : `${prefix}${String(v)}`));
}

/**
 * The routes of a Nest application that GenAuthGuard does not cover and that are not `@Public()`, as
 * Nest serves them (global prefix, URI version, module path, controller and handler paths). The
 * global prefix's `exclude` list is not applied (an excluded route is listed with the prefix).
 * @example const app = moduleRef.createNestApplication(); await app.init(); expect(unguardedRoutes(app)).toEqual([])
 */
export function unguardedRoutes(app: NestAppLike): UnguardedRoute[] {
  const modules = [...(app.get(ModulesContainer) as Map<string, ModuleLike>).values()];
  const config = (app as { config?: AppConfigLike }).config;
  const everywhere = globalGuard(config, modules);
  const prefix = config?.getGlobalPrefix?.() ?? '';
  const versioning = config?.getVersioning?.();
  const scanner = new MetadataScanner();
  const routes: UnguardedRoute[] = [];
  for (const module of modules) {
    const modulePath: unknown = module.metatype === undefined ? undefined : Reflect.getMetadata(MODULE_PATH, module.metatype as object);
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const controller = metatype as { prototype: Record<string, unknown> };
      const controllerGuarded = everywhere || has(Reflect.getMetadata(GUARDS_METADATA, controller));
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (typeof handler !== 'function') continue;
        const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
        if (typeof method !== 'number' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const policy = (Reflect.getMetadata(GENAUTH_ROUTE_POLICY, handler) ?? Reflect.getMetadata(GENAUTH_ROUTE_POLICY, controller)) as RoutePolicy | undefined;
        if (policy?.kind === 'public' || controllerGuarded || has(Reflect.getMetadata(GUARDS_METADATA, handler))) continue;
        for (const version of versionSegments(versioning, handler, controller)) {
          for (const base of paths(Reflect.getMetadata(PATH_METADATA, controller))) {
            for (const own of paths(Reflect.getMetadata(PATH_METADATA, handler))) {
              const path = [prefix, version, typeof modulePath === 'string' ? modulePath : '', base, own].reduce((left, right) => joinRoute(left, right), '/');
              routes.push({ method: RequestMethod[method] ?? String(method), path });
            }
          }
        }
      }
    }
  }
  return sortRoutes(routes);
}

/**
 * Opt-in start-up warning: one line listing the unguarded routes (nothing when there are none).
 * @example await app.init(); warnUnguarded(app, new Logger('genauth-guard'))
 */
export function warnUnguarded(app: NestAppLike, logger: WarnLogger): UnguardedRoute[] {
  return warnRoutes(unguardedRoutes(app), logger);
}
