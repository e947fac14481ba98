/**
 * `req.genauth` on Express without a new hidden class per request. Express 5 and 4 move each request
 * onto the app's prototype (`Object.setPrototypeOf(req, app.request)`); V8 adds no transitions to the
 * map that leaves, so every property added to the request afterwards copies its map and descriptors,
 * about 1.4 KB of old-space garbage per request that mark-compacts have to clear (docs/bench.md, "Hot
 * path"). So `genauth` is an accessor on the Express library's request prototype, shared by its apps
 * and their mounted sub-apps, and the context is kept in a WeakMap keyed by the request: reading and
 * assigning `req.genauth` work as before, the entry goes with the request. A prototype that is not
 * Express's, or that has a `genauth` of someone else's (defined before the guard checked it, or on the
 * app's request prototype since), gets the plain property as before.
 */
import type { GenAuthContext } from '../core/types.js';

/** Whatever was assigned to `req.genauth` of each request (by the guard, or by the app: the setter takes any value). */
const contexts = new WeakMap<object, unknown>();

const ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: object): unknown {
    return contexts.get(this);
  },
  set(this: object, value: unknown) {
    contexts.set(this, value);
  },
};

/** Prototypes (apps' `app.request`) already checked: true when the accessor serves them. */
const checked = new WeakMap<object, boolean>();
/** The last prototype seen: one app is the common case, and a comparison is cheaper than a lookup. */
let lastServed: object | undefined;

/** Where `name` is defined along `object`'s prototype chain, if anywhere. */
function descriptorOf(object: object | null, name: string): PropertyDescriptor | undefined {
  for (let o = object; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const found = Object.getOwnPropertyDescriptor(o, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Whether the accessor serves requests on `proto`, installing it when `proto` is an Express app's
 * request prototype (it has its own `app`) and nothing in its chain defines `genauth` yet. It goes on
 * that prototype's own prototype, Express's request object, so that a request leaving a mounted
 * sub-app (Express puts it back on the parent's prototype) still reads its context.
 */
function served(proto: object): boolean {
  let ok = checked.get(proto);
  if (ok === undefined) {
    const found = descriptorOf(proto, 'genauth');
    const base = Object.getPrototypeOf(proto) as object | null;
    if (found !== undefined) ok = found.get === ACCESSOR.get;
    else if (Object.hasOwn(proto, 'app') && base !== null && Object.isExtensible(base)) {
      Object.defineProperty(base, 'genauth', ACCESSOR);
      ok = true;
    } else ok = false;
    checked.set(proto, ok);
  }
  return ok;
}

/**
 * Sets `req.genauth`. Where the accessor serves the request, the context goes straight into the map:
 * the assignment would find the setter on the prototype chain through a lookup V8 cannot cache (each
 * request has a map of its own), about half a microsecond. An own `genauth` the app defined on the
 * request still wins: it gets the ordinary assignment, as does one the app defined on its app's
 * request prototype (`app.request`) after that prototype was checked (one own-property check per
 * request; the accessor is never put there). One defined on Express's own request object after the
 * first request is not seen (docs/express.md).
 */
export function attachExpressContext(req: { genauth?: GenAuthContext }, context: GenAuthContext): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto !== null && (proto === lastServed || served(proto))) {
    if (!Object.hasOwn(proto, 'genauth')) {
      lastServed = proto;
      if (!Object.hasOwn(req, 'genauth')) {
        contexts.set(req, context);
        return;
      }
    } else {
      // The app's own, defined since the check: from now on every request of the prototype is assigned.
      checked.set(proto, false);
      if (lastServed === proto) lastServed = undefined;
    }
  }
  req.genauth = context;
}
