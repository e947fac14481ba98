/**
 * Differential property test of API mode's path judgement against each framework's own router. A real
 * app per framework (Express 4 and 5, Koa 2 and 3 with @koa/router, Fastify, Nest on Express and on
 * Fastify; differential-apps.ts) serves one route table: static segments, parameters, wildcards, mixed
 * case, a route registered with a trailing slash, routes under a mounted router. Request targets are
 * generated from the route paths by random mutations (percent-encoding of any character, `/` as `%2F`,
 * `.` as `%2e`, `%` itself and double encoding, dot segments, repeated slashes, backslashes, matrix
 * parameters, a trailing `?` or `#`, case, a trailing slash or dot, Unicode that folds or normalizes to
 * ASCII, NUL, overlong UTF-8, absolute-form, `*`) and sent byte for byte over a raw socket, GET or HEAD.
 *
 * The oracle is the handler that ran: its route template with the parameters its router decoded gives
 * the path dispatched. That path must be reachable by the caller: public, or allowed by the caller's
 * grants (a DENY on a route's pattern, ALLOW `/*` elsewhere; ALLOW on a few routes only; no token).
 * Any handler that runs for a path its caller may not reach is a fail-open defect. The same target sent
 * to the same app without the guard tells what the router dispatches on its own: a target the guard
 * refuses while the router would dispatch it to a path the caller may reach is a fail-closed mismatch,
 * counted per mutation family (and printed with DIFF_REPORT=1).
 *
 * The reachable path is judged as the guard's defaults judge it: case-sensitively for ALLOW patterns
 * and public paths (a router never folds the value a parameter or wildcard captures, so `/FILES/PUBLIC/A`
 * running `/files/*` with `PUBLIC/A` is not reachable through an ALLOW on `/files/public/*`), under the
 * router's trailing-slash rule; and per route: a request without a token runs only a public route,
 * alice never a route her DENYs cover. DIFF_EXACT=1 also judges the trailing slash exactly (`strict`).
 * DIFF_RUNS, DIFF_SEED and DIFF_COLLECT=1 (collect every counterexample) help exploring;
 * `DIFF_SEED=1 DIFF_RUNS=1500` reaches the `/FILES/PUBLIC/A` case (test/paths/allow-case.test.ts
 * pins it on every folding router).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModeSpec } from '../../src/core/enforce/api.js';
import type { AuthorizedResource } from '../../src/genauth/types.js';
import { matchApi } from '../../src/policy/api-match.js';
import type { ApiMatchOptions, RouterRules } from '../../src/policy/api-options.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { indexGrants, type GrantIndex } from '../../src/policy/grants.js';
import {
  DIFF_TEMPLATES,
  startExpressDiff,
  startFastifyDiff,
  startKoaDiff,
  startNestDiff,
  type DiffApp,
  type DiffInput,
  type DiffRan,
  type DiffRoute,
} from './differential-apps.js';
import { useAliceAndBob, type Who } from './apps.js';
import { raw } from './raw.js';

const PUBLIC_PATHS = ['/health', '/docs/:page', '/mnt/pub'];

const api = (code: string, apiIdentifier: string, effect: 'ALLOW' | 'DENY', actions = effect === 'DENY' ? ['*'] : ['read']): AuthorizedResource => ({
  resourceCode: code,
  resourceType: 'API',
  apiIdentifier,
  actions,
  effect,
});

const WHO: Who[] = ['alice', 'bob', 'none'];

/** alice: everything but a DENY on some routes' patterns; bob: an ALLOW on a few routes only. */
const GRANTS: Record<'alice' | 'bob', AuthorizedResource[]> = {
  alice: [
    api('all', '/*', 'ALLOW'),
    api('keys', '/api/v1/keys', 'DENY'),
    api('admin', '/api/v1/admin/*', 'DENY'),
    api('reports', '/Reports/Q1', 'DENY'),
    api('slash', '/slash/', 'DENY'),
    api('private', '/files/private/*', 'DENY'),
    api('secret', '/mnt/Secret/:id', 'DENY'),
    api('root', '/', 'DENY'),
  ],
  bob: [
    api('root', '/', 'ALLOW'),
    api('users', '/api/v1/users', 'ALLOW'),
    api('user', '/api/v1/users/:id', 'ALLOW'),
    api('reports', '/Reports/Q1', 'ALLOW'),
    api('slash', '/slash/', 'ALLOW'),
    api('open', '/mnt/open', 'ALLOW'),
    api('files', '/files/public/*', 'ALLOW'),
  ],
};
/**
 * Route-level oracle: the routes every path of which is public, and those alice's DENYs cover whole.
 * A request the guard lets through without a token runs only a public route; alice never runs a denied one.
 */
const PUBLIC_ROUTES: ReadonlySet<DiffRoute> = new Set<DiffRoute>(['health', 'docs', 'mntPub']);
const DENIED_ROUTES: ReadonlySet<DiffRoute> = new Set<DiffRoute>(['root', 'keys', 'admin', 'reports', 'slash', 'mntSecret']);

const INDEX: Record<'alice' | 'bob', GrantIndex> = { alice: indexGrants(GRANTS.alice), bob: indexGrants(GRANTS.bob) };

/** Concrete paths of the routes, the seeds of the mutations. */
const SEEDS = [
  '/',
  '/health',
  '/docs/intro',
  '/api/v1/keys',
  '/api/v1/admin/x',
  '/Reports/Q1',
  '/api/v1/users',
  '/api/v1/users/7',
  '/slash/',
  '/files/private/k',
  '/files/public/a',
  '/mnt/Secret/1',
  '/mnt/open',
  '/mnt/pub',
  '/mnt/x/y',
  '/api/v1/kitty',
  '/a/b',
  '/internal/x',
];

// ------------------------------------------------------------------------------------------ mutations

/** One mutation: its family, where (a fraction of the path) and which variant. */
interface Mutation {
  family: Family;
  at: number;
  variant: number;
}

const FAMILIES = [
  'percent',
  'encodedSlash',
  'encodedDot',
  'doubleEncoding',
  'dotSegment',
  'repeatedSlash',
  'backslash',
  'matrix',
  'querySuffix',
  'case',
  'trailing',
  'unicode',
  'nul',
  'overlong',
  'absoluteForm',
  'asterisk',
] as const;
type Family = (typeof FAMILIES)[number];

const hex = (byte: number, lower: boolean): string => {
  const text = `%${byte.toString(16).padStart(2, '0')}`;
  return lower ? text.toLowerCase() : text.toUpperCase();
};

/** Raw UTF-8 on the wire: one latin1 char per byte (raw() writes latin1). */
const wireUtf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** Indexes of `path` where `test` holds. */
function positions(path: string, test: (c: string, i: number) => boolean): number[] {
  const found: number[] = [];
  for (let i = 0; i < path.length; i++) if (test(path[i] as string, i)) found.push(i);
  return found;
}

function pick<T>(list: readonly T[], at: number): T | undefined {
  return list.length === 0 ? undefined : list[Math.min(list.length - 1, Math.floor(at * list.length))];
}

const splice = (path: string, index: number, remove: number, insert: string): string => path.slice(0, index) + insert + path.slice(index + remove);

/** Slash positions after which a segment starts (the path part only). */
const slashes = (path: string): number[] => positions(path, (c) => c === '/');

function mutate(path: string, { family, at, variant }: Mutation): string {
  switch (family) {
    case 'percent': {
      const i = pick(positions(path, (c) => c !== '/' && c !== '%'), at);
      return i === undefined ? path : splice(path, i, 1, hex(path.charCodeAt(i), variant % 2 === 1));
    }
    case 'encodedSlash': {
      const i = pick(slashes(path).filter((j) => j > 0), at);
      const slash = ['%2F', '%2f', '%5C', '%5c'][variant % 4] as string;
      return i === undefined ? `${path}${slash}` : splice(path, i, 1, slash);
    }
    case 'encodedDot': {
      const i = pick(slashes(path), at) ?? 0;
      const dots = ['%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '%2E%2E'][variant % 6] as string;
      const extra = variant % 2 === 0 ? '/zz' : '';
      return splice(path, i + 1, 0, `${extra.slice(1)}${extra ? '/' : ''}${dots}/`);
    }
    case 'doubleEncoding': {
      // %XX -> %25XX, or a letter as %25XX, or a lone %.
      const escape = pick(positions(path, (c) => c === '%'), at);
      if (escape !== undefined && variant % 3 === 0) return splice(path, escape + 1, 0, '25');
      const i = pick(positions(path, (c) => /[A-Za-z0-9]/.test(c)), at);
      if (i === undefined) return `${path}%25`;
      if (variant % 3 === 1) return splice(path, i, 1, `%25${path.charCodeAt(i).toString(16).toUpperCase()}`);
      return splice(path, i, 0, ['%', '%25', '%%', '%2'][variant % 4] as string);
    }
    case 'dotSegment': {
      const i = pick(slashes(path), at) ?? 0;
      const dots = ['./', '../', 'zz/../', 'zz/./', '.', '..'][variant % 6] as string;
      return splice(path, i + 1, 0, dots);
    }
    case 'repeatedSlash': {
      const i = pick(slashes(path), at) ?? 0;
      return splice(path, i, 0, variant % 2 === 0 ? '/' : '//');
    }
    case 'backslash': {
      const i = pick(slashes(path), at) ?? 0;
      return variant % 2 === 0 ? splice(path, i, 1, '\\') : splice(path, i + 1, 0, '\\');
    }
    case 'matrix': {
      const ends = [...slashes(path).filter((j) => j > 0), path.length];
      const i = pick(ends, at) ?? path.length;
      return splice(path, i, 0, [';', ';x=1', ';jsessionid=a', '%3B', '%3bx'][variant % 5] as string);
    }
    case 'querySuffix':
      return path + (['?', '#', '?x=1', '#x', '?/../keys', '#/../keys', '%3F', '%23', '?%2F'][variant % 9] as string);
    case 'case': {
      if (variant % 4 === 0) return path.toUpperCase();
      if (variant % 4 === 1) return path.toLowerCase();
      const i = pick(positions(path, (c) => /[A-Za-z]/.test(c)), at);
      if (i === undefined) return path;
      const c = path[i] as string;
      return splice(path, i, 1, c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
    }
    case 'trailing':
      return path + (['/', '.', '/.', '%20', '%2e', '%09', '/..', '~', '%2F'][variant % 9] as string);
    case 'unicode': {
      const letters: Array<[RegExp, string[]]> = [
        [/[kK]/, ['%E2%84%AA', wireUtf8('\u212a')]],
        [/[sS]/, ['%C5%BF', wireUtf8('\u017f')]],
        [/[iI]/, ['%C4%B0', '%C4%B1', wireUtf8('\u0130')]],
        [/[aA]/, ['%EF%BD%81', '%C3%A0']],
        [/\//, ['%EF%BC%8F', wireUtf8('\uff0f'), '%E2%88%95']],
        [/[eE]/, ['e%CC%81', '%C3%A9', wireUtf8('\u00e9')]],
      ];
      const [test, options] = letters[variant % letters.length] as [RegExp, string[]];
      const i = pick(positions(path, (c, j) => test.test(c) && j > 0), at);
      const spelling = options[Math.floor(variant / letters.length) % options.length] as string;
      return i === undefined ? path + spelling : splice(path, i, 1, spelling);
    }
    case 'nul': {
      const i = Math.floor(at * path.length) + 1;
      return splice(path, Math.min(i, path.length), 0, ['%00', '\u0000', '%0A', '%0d'][variant % 4] as string);
    }
    case 'overlong': {
      const i = pick(slashes(path).filter((j) => j > 0), at);
      const spelling = ['%C0%AF', '%E0%80%AF', '%C0%AE', '%C1%9C', '%C0%AE%C0%AE/'][variant % 5] as string;
      return i === undefined ? path + spelling : splice(path, i + (variant % 5 >= 2 ? 1 : 0), variant % 5 >= 2 ? 0 : 1, spelling);
    }
    case 'absoluteForm': {
      if (variant % 7 === 5) return `http://127.0.0.1${path === '/' ? '' : path}`;
      if (variant % 7 === 6) return `http://127.0.0.1?${path.slice(1)}`;
      return (['http://127.0.0.1', 'HTTP://example.com:80', 'https://h', 'http://h.', 'Http://[::1]:8080'][variant % 7] as string) + path;
    }
    case 'asterisk':
      return ['*', `*${path}`, `${path}*`][variant % 3] as string;
  }
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  family: fc.constantFrom(...FAMILIES),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  variant: fc.nat({ max: 89 }),
});

interface Sample {
  method: 'GET' | 'HEAD';
  seed: string;
  mutations: Mutation[];
}

const sampleArb: fc.Arbitrary<Sample> = fc.record({
  method: fc.constantFrom('GET', 'HEAD'),
  seed: fc.constantFrom(...SEEDS),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
});

function targetOf(sample: Sample): string {
  // Absolute-form goes in front last, so the other mutations work on the path.
  const sorted = [...sample.mutations].sort((a, b) => Number(a.family === 'absoluteForm') - Number(b.family === 'absoluteForm'));
  return sorted.reduce(mutate, sample.seed);
}

// --------------------------------------------------------------------------------------------- oracle

/** The path a handler was dispatched for: its template with the decoded parameters put back. */
function dispatchedPath(ran: DiffRan): string {
  const encode = (value: string | undefined) => (value ?? '').split('/').map(encodeURIComponent).join('/');
  return DIFF_TEMPLATES[ran.route].replace(/:(\w+)|\*$/g, (_match, key: string | undefined) => encode(ran.params[key ?? '*']));
}

interface Case {
  label: string;
  start(input: DiffInput): Promise<DiffApp>;
  /** How the router compares paths: ALLOW patterns and public paths apply as widely, never wider. */
  router: RouterRules;
}

const EXPRESS: RouterRules = { caseFold: 'ascii', ignoreTrailingSlash: true };
const STRICT: RouterRules = { caseFold: 'none', ignoreTrailingSlash: false };
const FASTIFY_LENIENT = { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true };

const CASES: Case[] = [
  { label: 'Express 4', start: (i) => startExpressDiff(4, {}, i), router: EXPRESS },
  { label: 'Express 5', start: (i) => startExpressDiff(5, {}, i), router: EXPRESS },
  {
    label: 'Express 5 case sensitive and strict routing',
    start: (i) => startExpressDiff(5, { settings: { 'case sensitive routing': true, 'strict routing': true } }, i),
    router: STRICT,
  },
  { label: 'Koa 2 with @koa/router', start: (i) => startKoaDiff(2, i), router: EXPRESS },
  { label: 'Koa 3 with @koa/router', start: (i) => startKoaDiff(3, i), router: EXPRESS },
  { label: 'Fastify', start: (i) => startFastifyDiff({}, i), router: STRICT },
  { label: 'Fastify, lenient router options', start: (i) => startFastifyDiff({ routerOptions: FASTIFY_LENIENT }, i), router: { caseFold: 'unicode', ignoreTrailingSlash: true } },
  { label: 'Nest on Express', start: (i) => startNestDiff({ platform: 'express' }, i), router: EXPRESS },
  { label: 'Nest on Fastify', start: (i) => startNestDiff({ platform: 'fastify' }, i), router: STRICT },
  {
    label: 'Nest on Fastify, lenient router options',
    start: (i) => startNestDiff({ platform: 'fastify', fastify: { routerOptions: FASTIFY_LENIENT } }, i),
    router: { caseFold: 'unicode', ignoreTrailingSlash: true },
  },
];

type Reach = 'yes' | 'no' | 'unjudgeable';

function reachOf(who: Who, method: string, path: string, router: RouterRules, options: ApiMatchOptions): Reach {
  const target = normalizeApiTarget(path);
  if (!target.ok) return 'unjudgeable';
  if (PUBLIC.isPublic(target, router)) return 'yes';
  if (who === 'none') return 'no';
  return matchApi(INDEX[who], method, path, options).allowed ? 'yes' : 'no';
}
const PUBLIC = apiModeSpec({ publicPaths: PUBLIC_PATHS });

// ------------------------------------------------------------------------------------------------ run

const RUNS = Number(process.env['DIFF_RUNS'] ?? 300);
/** Fixed by default, so a failure reproduces; DIFF_SEED explores others. */
const SEED = Number(process.env['DIFF_SEED'] ?? 0x5eed);
const REPORT = process.env['DIFF_REPORT'] === '1' || process.env['DIFF_REPORT'] === 'all';
/** DIFF_COLLECT=1: explore, collect every fail-open instead of stopping at the first. */
const COLLECT = process.env['DIFF_COLLECT'] === '1';

const { emulator, tokens } = useAliceAndBob(GRANTS);

describe.each(CASES)('$label', (c) => {
  let guarded: DiffApp;
  let bare: DiffApp;
  const exact = process.env['DIFF_EXACT'] === '1';
  const options: ApiMatchOptions = exact ? { caseSensitive: true, strict: true } : { router: c.router };
  const rules: RouterRules = exact ? STRICT : c.router;
  beforeAll(async () => {
    guarded = await c.start({ options: emulator().guardOptions(), api: { publicPaths: PUBLIC_PATHS }, guarded: true });
    bare = await c.start({ options: emulator().guardOptions(), api: {}, guarded: false });
  });
  afterAll(async () => {
    await guarded?.close();
    await bare?.close();
  });

  it('no handler runs for a path its caller may not reach, whatever the spelling of the target', async () => {
    const failOpen: string[] = [];
    const failClosed = new Map<string, string[]>();
    const families = new Map<string, { sent: number; open: number; closed: number }>();
    const property = fc.asyncProperty(sampleArb, async (sample) => {
      const target = targetOf(sample);
      const label = [...new Set(sample.mutations.map((m) => m.family))].sort().join('+');
      const counted = [...new Set(sample.mutations.map((m) => m.family))].map((family) => {
        const stats = families.get(family) ?? { sent: 0, open: 0, closed: 0 };
        families.set(family, stats);
        return stats;
      });
      for (const stats of counted) stats.sent++;
      let closedHere = false;
      bare.ran.length = 0;
      await raw(bare.port, sample.method, target);
      const routed = bare.ran[0];
      const found: string[] = [];
      for (const who of WHO) {
        guarded.ran.length = 0;
        const res = await raw(guarded.port, sample.method, target, tokens[who]);
        for (const ran of guarded.ran) {
          const path = dispatchedPath(ran);
          const reach = reachOf(who, sample.method, path, rules, options);
          if (reach !== 'yes') found.push(`${who} ${sample.method} ${JSON.stringify(target)} -> ${res.status}, ran '${ran.route}' for ${path} (${reach})`);
          if (who === 'none' && !PUBLIC_ROUTES.has(ran.route)) found.push(`none ${sample.method} ${JSON.stringify(target)} -> ${res.status}, ran the non-public route '${ran.route}' for ${path}`);
          if (who === 'alice' && DENIED_ROUTES.has(ran.route)) found.push(`alice ${sample.method} ${JSON.stringify(target)} -> ${res.status}, ran the denied route '${ran.route}'`);
        }
        if (guarded.ran.length === 0 && res.status >= 200 && res.status < 300) {
          found.push(`${who} ${sample.method} ${JSON.stringify(target)} -> ${res.status} without a handler`);
        }
        if (guarded.ran.length === 0 && routed !== undefined && res.status >= 400) {
          const path = dispatchedPath(routed);
          if (reachOf(who, sample.method, path, rules, options) === 'yes') {
            closedHere = true;
            const list = failClosed.get(label) ?? [];
            list.push(`${who} ${sample.method} ${JSON.stringify(target)} -> ${res.status}; the router runs '${routed.route}' for ${path}`);
            failClosed.set(label, list);
          }
        }
      }
      if (closedHere) for (const stats of counted) stats.closed++;
      if (found.length > 0) {
        for (const stats of counted) stats.open++;
        failOpen.push(...found.map((line) => `[${label}] ${line}`));
        return COLLECT;
      }
      return true;
    });
    let error: unknown;
    try {
      await fc.assert(property, { numRuns: RUNS, seed: SEED });
    } catch (e) {
      error = e;
    }
    if (REPORT) {
      const lines = [...families].sort().map(([label, s]) => `  ${label}: sent ${s.sent}, fail-open ${s.open}, fail-closed ${s.closed}`);
      const closed = [...failClosed].flatMap(([label, list]) => list.slice(0, process.env['DIFF_REPORT'] === 'all' ? undefined : 3).map((line) => `  [${label}] ${line}`));
      console.log(`${c.label}\n${lines.join('\n')}\nfail-open:\n${[...new Set(failOpen)].slice(0, 40).join('\n')}\nfail-closed (3 per family):\n${closed.join('\n')}`);
    }
    if (error !== undefined) throw error;
    expect(failOpen).toEqual([]);
  }, 600_000);
});
