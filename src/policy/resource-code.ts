/**
 * What no resource code of a real request holds: a whole segment (between `:` and `/`) that is what
 * JavaScript makes of a missing value. A resource function that reads a value the request does not
 * have where it runs builds one: `ecs:${req.params.id}` in `router.use()` (Express and @koa/router set
 * params per route, so there are none yet) is `ecs:undefined`, `Number(missing)` is `NaN`, an object
 * in a template is `[object Object]`. Decided as such, the code escaped a DENY on the resource the
 * handler then used whenever a wildcard ALLOW (`ecs:*`) covered it.
 */
const MISSING_VALUE_SEGMENT = /(?:^|[:/])(?:undefined|NaN|\[object Object\])(?=$|[:/])/;

/**
 * Throws a TypeError (the check's 500) when `resource` has a segment made of a missing value.
 * @throws TypeError naming what the resource function likely read.
 */
export function refuseMissingValue(resource: string): void {
  if (MISSING_VALUE_SEGMENT.test(resource)) {
    // The code itself is not quoted: it may hold request data.
    throw new TypeError(
      'genauth-guard: the resource has a segment "undefined", "NaN" or "[object Object]": the resource function read a value the request does not have ' +
        'where the guard runs (route params in router.use(), which Express and @koa/router set per route, or a missing query or header); ' +
        'mount the guard on the route itself, or read the value where it is set',
    );
  }
}
