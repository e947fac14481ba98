import { InvalidRequestError, PermissionDeniedError } from './errors.js';
import type { GenAuthContext, Guard } from './guard.js';
import { createApiMatcher, type ApiDecision, type ApiMatchOptions, type ApiMatcher } from './policy/api-match.js';
import { normalizeApiTarget, type ApiPath } from './policy/api-path.js';
import { compileApiPattern } from './policy/api-pattern.js';
import { PatternTrie } from './policy/api-trie.js';
import type { Decision } from './policy/decide.js';
import type { RequestLike } from './request.js';
import { fail, strictObject } from './options/checks.js';

/** Options of API mode (`guard.api(options)`). */
export interface ApiModeOptions extends ApiMatchOptions {
  /**
   * Paths that need no token at all, in the grant pattern syntax (`/health`, `/docs/*`, `/files/:id`).
   * Matched on the same canonical path, with `caseSensitive` and `strict`. Everything else fails closed.
   * @default []
   */
  publicPaths?: string[];
}

/** API mode's checked, frozen specification, built once when the middleware is created. */
export interface ApiModeSpec {
  readonly matcher: ApiMatcher;
  /** True when the (canonical) path is one of `publicPaths`. */
  isPublic(path: ApiPath): boolean;
}

const KNOWN_OPTIONS = ['publicPaths', 'methodActions', 'caseSensitive', 'strict', 'apiOrigin'];

/**
 * Validates API-mode options once and compiles the public paths.
 * @example const spec = apiModeSpec({ publicPaths: ['/health', '/docs/*'] });
 * @throws TypeError naming the option (`api.publicPaths[1]`, `api.methodActions.GET`, ...); an unknown
 * key (a misspelt one would silently keep its default) with the closest valid one.
 */
export function apiModeSpec(options: ApiModeOptions = {}): ApiModeSpec {
  const { publicPaths = [], ...matchOptions } = strictObject(options, KNOWN_OPTIONS, 'api') as ApiModeOptions;
  const matcher = createApiMatcher(matchOptions, 'api.');
  if (!Array.isArray(publicPaths)) fail('api.publicPaths', 'must be an array of path patterns');
  const lowerCase = !matcher.options.caseSensitive;
  const publicTrie = new PatternTrie<true>();
  publicPaths.forEach((value, i) => {
    const result = typeof value === 'string' && value.startsWith('/') ? compileApiPattern(value, { lowerCase }) : undefined;
    if (result === undefined || !result.ok) {
      fail(`api.publicPaths[${i}]`, 'must be a path pattern such as /health, /docs/* or /files/:id');
    }
    publicTrie.insert(result.pattern, true);
  });
  const { strict } = matcher.options;
  return Object.freeze({
    matcher,
    isPublic(path: ApiPath): boolean {
      if (publicTrie.size === 0) return false;
      const segments = lowerCase ? path.segments.map((s) => s.toLowerCase()) : path.segments;
      let found = false;
      publicTrie.collect(segments, path.trailingSlash, strict, () => {
        found = true;
      });
      return found;
    },
  });
}

function asContextDecision(decision: ApiDecision): Decision {
  // Only an allowed decision is attached, and its reason ('allowed') is one Decision knows.
  return decision as Decision;
}

/**
 * The whole API-mode check for one request, shared by every adapter. `request.url` must be the full
 * request target as received (path and query, mount prefix included). Order: a bad target -> 400,
 * then the token -> 401, then the permission -> 403 (503 on outage).
 * Resolves `null` for a public path (let it through without auth), else the context to attach.
 * @throws GuardError InvalidRequestError (400), MissingTokenError/InvalidTokenError (401),
 * PermissionDeniedError (403), PermissionsUnavailableError/KeysUnavailableError (503), GuardInternalError (500).
 */
export async function enforceApi(guard: Guard, request: RequestLike, spec: ApiModeSpec): Promise<GenAuthContext | null> {
  const target = normalizeApiTarget(request.url);
  // Never echo the path: the message is a fixed text.
  if (!target.ok) throw new InvalidRequestError('The request path cannot be evaluated', guard.options.realm);
  if (spec.isPublic(target)) return null;
  const identity = await guard.authenticate(request);
  const grants = await guard.permissions(identity.userId);
  const compiled = spec.matcher.compile(grants);
  const conditions = compiled.hasConditions ? await guard.conditionCheck(identity.userId, { request, identity }) : undefined;
  const decision = spec.matcher.match(grants, request.method, target, conditions);
  if (!decision.allowed) throw new PermissionDeniedError(decision.resource, decision.actions, guard.options.realm);
  return { identity, decision: asContextDecision(decision) };
}
