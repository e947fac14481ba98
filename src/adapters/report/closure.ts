/**
 * Reads one variable out of a function's closure, through an in-process `node:inspector` session (no
 * port, no debugger). Express keeps an app mounted with `app.use(path, subApp)` only in the closure of
 * its `mounted_app` wrapper, so the route report has no other way to reach the sub-app's routes.
 * Used by the report only, never on a request.
 */
import type * as Inspector from 'node:inspector';

type InspectorModule = typeof Inspector;

/** Where the function goes in and the value comes out: the session evaluates in this realm's global scope. */
const PROBE = Symbol.for('genauth-guard.report-closure-probe');
const PROBE_EXPRESSION = 'globalThis[Symbol.for("genauth-guard.report-closure-probe")]';
const GROUP = 'genauth-guard-report';

interface RemoteProperty {
  name: string;
  value?: { objectId?: string; description?: string };
}

function inspectorModule(): InspectorModule | undefined {
  try {
    // Loaded lazily: a Node built without the inspector throws when the module loads.
    return process.getBuiltinModule('node:inspector') as InspectorModule | undefined;
  } catch {
    return undefined;
  }
}

/**
 * The value `name` holds in the innermost closure of `fn` (the variables `fn` itself uses), or undefined
 * when it has none or the closure cannot be read (no inspector, another realm's function).
 */
export function closureVariable(fn: (...args: never[]) => unknown, name: string): unknown {
  const inspector = inspectorModule();
  if (inspector === undefined) return undefined;
  const global = globalThis as Record<symbol, unknown>;
  const probe: { fn: unknown; out?: unknown } = { fn };
  const session = new inspector.Session();
  // A session of this thread answers synchronously: the callback has run when post() returns.
  const post = <T>(method: string, params: object): T => {
    let answer: { error: Error | null; result?: T } | undefined;
    session.post(method, params, (error: Error | null, result?: object) => (answer = { error, result: result as T }));
    if (answer === undefined || answer.error !== null || answer.result === undefined) throw new Error(`inspector: ${method} failed`);
    return answer.result;
  };
  let connected = false;
  try {
    session.connect();
    connected = true;
    global[PROBE] = probe;
    const remote = post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `${PROBE_EXPRESSION}.fn`, objectGroup: GROUP }).result;
    const internal = post<{ internalProperties?: RemoteProperty[] }>('Runtime.getProperties', { objectId: remote.objectId, ownProperties: true, objectGroup: GROUP });
    const scopes = internal.internalProperties?.find((p) => p.name === '[[Scopes]]')?.value?.objectId;
    // The scopes run from the innermost out; only the first, when it is a closure, is the function's own.
    const innermost = post<{ result: RemoteProperty[] }>('Runtime.getProperties', { objectId: scopes, ownProperties: true, objectGroup: GROUP }).result.find((p) => p.name === '0');
    if (innermost?.value?.description?.startsWith('Closure') !== true) return undefined;
    const scope = post<{ result: RemoteProperty[] }>('Runtime.getProperties', { objectId: innermost.value.objectId, ownProperties: true, objectGroup: GROUP });
    const variable = scope.result.find((p) => p.name === name)?.value?.objectId;
    if (variable === undefined) return undefined;
    post('Runtime.callFunctionOn', { objectId: variable, functionDeclaration: `function () { ${PROBE_EXPRESSION}.out = this; }`, objectGroup: GROUP });
    return probe.out;
  } catch {
    return undefined;
  } finally {
    delete global[PROBE];
    if (connected) {
      session.post('Runtime.releaseObjectGroup', { objectGroup: GROUP });
      session.disconnect();
    }
  }
}
