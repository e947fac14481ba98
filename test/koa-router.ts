/**
 * Which @koa/router the Koa tests run on. vitest.config.ts runs the router-dependent files once per
 * supported major: 15 as installed, 12 to 14 with '@koa/router' aliased to `koa-router12` and so on
 * (KOA_ROUTER_MAJOR names the one aliased). 12 and 13 parse route paths with path-to-regexp 6, 14 and
 * 15 with 8.
 */
export const KOA_ROUTER_MAJOR = Number(process.env.KOA_ROUTER_MAJOR ?? 15);

/** Whether route paths are path-to-regexp 6 syntax (@koa/router 12 and 13). */
export const KOA_ROUTER_PTR6 = KOA_ROUTER_MAJOR <= 13;

/** A route taking the rest of the path after `base` (ending in `/`) as the param `rest`. */
export function koaRest(base: string): string {
  return KOA_ROUTER_PTR6 ? `${base}:rest(.*)` : `${base}{*rest}`;
}
