import { describe, expect, it } from 'vitest';
import type { AuthorizedResource, PolicyCondition } from '../../src/wire.js';
import { apiModeSpec } from '../../src/core/enforce/api.js';
import { createApiMatcher, matchApi } from '../../src/policy/api-match.js';
import type { ApiMatchOptions, RouterRules } from '../../src/policy/api-options.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { indexGrants } from '../../src/policy/grants.js';
import type { Grant } from '../../src/policy/normalize-grant.js';

function api(code: string, apiIdentifier: string | null, actions: string[], extra: Partial<AuthorizedResource> = {}): AuthorizedResource {
  return { resourceCode: code, resourceType: 'API', apiIdentifier, actions, effect: 'ALLOW', ...extra };
}

const GRANTS = indexGrants([
  api('users', '/api/v1/users', ['read']),
  api('user', '/api/v1/users/:id', ['read', 'update']),
  api('items', '/api/v1/orders/{orderId}/items', ['*']),
  api('docs', '/api/v1/docs/*', ['read']),
  api('docs-admin', '/api/v1/docs/admin', ['*'], { effect: 'DENY' }),
  { resourceCode: 'data', resourceType: 'DATA', apiIdentifier: '/api/v1/data', actions: ['read'], effect: 'ALLOW' },
  api('no-identifier', null, ['*']),
  api('things', 'https://api.example.com/api/v2/things', ['read']),
  api('boundaryless', '/api/v1/pre*', ['read']),
  api('secret', '/api/v1/secret/*', ['read']),
  api('secret-typo', '/api/v1/secret/%zz/x', ['*'], { effect: 'DENY' }),
  api('cafe', '/api/v1/café', ['read']),
  api('root', '/', ['read']),
  api('slash', '/api/v1/slash/', ['read']),
]);

describe('normalizeApiTarget', () => {
  it.each([
    ['/api/v1/users', '/api/v1/users'],
    ['/api/v1/users?x=1&y=/../', '/api/v1/users'],
    ['/', '/'],
    ['/?q', '/'],
    ['/api/v1/users/', '/api/v1/users/'],
    ['/api/%61dmin', '/api/admin'],
    ['/api/%2561dmin', '/api/%2561dmin'],
    ['/api/it%27s', "/api/it's"],
    ['/api/a%3bb', '/api/a%3Bb'],
    ['/api/caf%c3%a9', '/api/caf%C3%A9'],
    ['/api/a|b', '/api/a%7Cb'],
    ['/api/a%7cb', '/api/a%7Cb'],
    ['/api/:x/@y', '/api/:x/@y'],
    ['http://evil.example/api/admin?x', '/api/admin'],
    ['https://evil.example:8443/', '/'],
    ['http://[::1]:80/a', '/a'],
  ])('%s -> %s', (target, path) => {
    expect(normalizeApiTarget(target)).toMatchObject({ ok: true, path });
  });

  it.each([
    ['', 'not_a_path'],
    ['*', 'not_a_path'],
    ['api/v1', 'not_a_path'],
    ['http://user@evil.example/api', 'not_a_path'],
    ['http://ev!l/api', 'not_a_path'],
    [`http://${'a'.repeat(64)}/api`, 'not_a_path'],
    ['http://evil.example\\@good/api', 'not_a_path'],
    // find-my-way < 9.10 strips neither an upper-case scheme nor an authority without a `/` after it
    ['HTTPS://evil.example:8443/api', 'not_a_path'],
    ['https://evil.example:8443', 'not_a_path'],
    ['http://h?x=1', 'not_a_path'],
    ['/api/../admin', 'dot_segment'],
    ['/api/./admin', 'dot_segment'],
    ['/api/%2e%2e/admin', 'dot_segment'],
    ['/api/.%2E', 'dot_segment'],
    ['/api%2Fadmin', 'encoded_separator'],
    ['/api%2fadmin', 'encoded_separator'],
    ['/api%5Cadmin', 'encoded_separator'],
    ['/api\\admin', 'bad_character'],
    ['/api/admin#x', 'bad_character'],
    ['/api/café', 'bad_character'],
    ['/api/a b', 'bad_character'],
    ['/api/admin;jsessionid=1', 'matrix_parameter'],
    ['/api/%00', 'control_character'],
    ['/api/%0A', 'control_character'],
    ['/api/%zz', 'bad_percent_encoding'],
    ['/api/%', 'bad_percent_encoding'],
    ['/api//admin', 'empty_segment'],
    ['//api/admin', 'empty_segment'],
  ])('%s -> 400 (%s)', (target, problem) => {
    expect(normalizeApiTarget(target)).toEqual({ ok: false, problem });
  });
});

describe('matchApi', () => {
  type Row = [method: string, target: string, options: ApiMatchOptions | undefined, reason: string, grant: string | undefined];
  const ORIGIN = { apiOrigin: 'https://api.example.com' };
  it.each<Row>([
    ['GET', '/api/v1/users', undefined, 'allowed', 'users'],
    ['HEAD', '/api/v1/users', undefined, 'allowed', 'users'],
    ['get', '/api/v1/users', undefined, 'allowed', 'users'],
    ['POST', '/api/v1/users', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/users?admin=1', undefined, 'allowed', 'users'],
    // ALLOW patterns match case-sensitively unless `caseSensitive: false` opts in to the router's folding
    ['GET', '/API/V1/USERS', undefined, 'no_grant', undefined],
    ['GET', '/API/V1/USERS', { caseSensitive: true }, 'no_grant', undefined],
    ['GET', '/API/V1/USERS', { caseSensitive: false }, 'allowed', 'users'],
    ['GET', '/api/v1/users/', undefined, 'allowed', 'users'],
    ['GET', '/api/v1/users/', { strict: true }, 'no_grant', undefined],
    ['GET', '/api/v1/slash', undefined, 'allowed', 'slash'],
    ['GET', '/api/v1/slash', { strict: true }, 'no_grant', undefined],
    ['GET', '/api/v1/slash/', { strict: true }, 'allowed', 'slash'],
    // an escape is matched only by a parameter or a wildcard: Express routes `%75sers` elsewhere
    ['GET', '/api/v1/%75sers', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/users/%34%32', undefined, 'allowed', 'user'],
    ['GET', '/api/v1/users/42', undefined, 'allowed', 'user'],
    ['PUT', '/api/v1/users/42', undefined, 'allowed', 'user'],
    ['PATCH', '/api/v1/users/42', undefined, 'allowed', 'user'],
    ['DELETE', '/api/v1/users/42', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/users/42/roles', undefined, 'no_grant', undefined],
    ['DELETE', '/api/v1/orders/7/items', undefined, 'allowed', 'items'],
    ['POST', '/api/v1/orders/7/items', undefined, 'allowed', 'items'],
    ['GET', '/api/v1/orders/7/items/1', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/docs', undefined, 'allowed', 'docs'],
    ['GET', '/api/v1/docs/', undefined, 'allowed', 'docs'],
    ['GET', '/api/v1/docs/a/b/c', undefined, 'allowed', 'docs'],
    ['GET', '/api/v1/docsx', undefined, 'no_grant', undefined],
    ['POST', '/api/v1/docs/a', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/docs/admin', undefined, 'denied', 'docs-admin'],
    ['GET', '/API/v1/Docs/ADMIN/', { caseSensitive: true, strict: true }, 'denied', 'docs-admin'],
    ['GET', '/api/v1/docs/%61dmin', undefined, 'denied', 'docs-admin'],
    ['GET', '/api/v1/docs/%41DMIN', { caseSensitive: true }, 'denied', 'docs-admin'],
    ['GET', '/api/v1/docs/admin/sub', undefined, 'allowed', 'docs'],
    ['GET', '/api/v1/data', undefined, 'no_grant', undefined],
    ['GET', '/api/v2/things', undefined, 'no_grant', undefined],
    ['GET', '/api/v2/things', ORIGIN, 'allowed', 'things'],
    ['GET', '/api/v2/things', { apiOrigin: 'https://API.example.com:443/' }, 'allowed', 'things'],
    ['GET', '/api/v2/things', { apiOrigin: 'https://other.example.com' }, 'no_grant', undefined],
    ['GET', 'http://api.example.com/api/v2/things', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/prefix', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/pre', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/secret/x', undefined, 'denied', 'secret-typo'],
    ['GET', '/api/v1/caf%C3%A9', undefined, 'allowed', 'cafe'],
    ['GET', '/api/v1/CAF%C3%A9', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/CAF%C3%A9', { caseSensitive: false }, 'allowed', 'cafe'],
    // lower-case hex is not the route's `%C3%A9` to a case-sensitive Express: no ALLOW literal matches it
    ['GET', '/api/v1/CAF%c3%a9', undefined, 'no_grant', undefined],
    ['GET', '/api/v1/CAF%c3%a9', { caseSensitive: false }, 'no_grant', undefined],
    ['GET', '/', undefined, 'allowed', 'root'],
    ['GET', '/?x', undefined, 'allowed', 'root'],
    ['OPTIONS', '/api/v1/users', undefined, 'unmapped_method', undefined],
    ['OPTIONS', '/api/v1/users', { methodActions: { OPTIONS: 'read' } }, 'allowed', 'users'],
    ['PROPFIND', '/api/v1/users', undefined, 'unmapped_method', undefined],
    ['GET', '/api/v1/users', { methodActions: { GET: 'view' } }, 'no_grant', undefined],
    ['HEAD', '/api/v1/users', { methodActions: { GET: 'view' } }, 'no_grant', undefined],
    ['HEAD', '/api/v1/users', { methodActions: { GET: 'view', HEAD: 'read' } }, 'allowed', 'users'],
    ['GET', '/api/v1/../v1/users', undefined, 'invalid_target', undefined],
    ['GET', '/api/v1/users;x=1', undefined, 'invalid_target', undefined],
  ])('%s %s %j -> %s by %s', (method, target, options, reason, grant) => {
    const result = matchApi(GRANTS, method, target, options);
    expect(result.reason).toBe(reason);
    expect(result.allowed).toBe(reason === 'allowed');
    expect(result.grant?.code).toBe(grant);
  });

  it('reports the canonical path, the method and its action', () => {
    expect(matchApi(GRANTS, 'put', '/api/v1/users/%34%32?x')).toMatchObject({
      allowed: true,
      method: 'PUT',
      action: 'update',
      path: '/api/v1/users/42',
      resource: '/api/v1/users/42',
      actions: ['update'],
    });
    expect(matchApi(GRANTS, 'GET', '/a/%2F')).toMatchObject({ reason: 'invalid_target', problem: 'encoded_separator', path: '' });
  });

  it('accepts a plain Grant array', () => {
    expect(matchApi(GRANTS.grants as Grant[], 'GET', '/api/v1/users').allowed).toBe(true);
    expect(matchApi([], 'GET', '/api/v1/users').reason).toBe('no_grant');
  });

  it('DENY overrides ALLOW whatever the order, and the first matching DENY is reported', () => {
    const index = indexGrants([
      api('all', '/*', ['*']),
      api('deny-2', '/a/:x', ['delete'], { effect: 'DENY' }),
      api('deny-1', '/a/*', ['delete'], { effect: 'DENY' }),
    ]);
    expect(matchApi(index, 'GET', '/a/b')).toMatchObject({ allowed: true, grant: { code: 'all' } });
    expect(matchApi(index, 'DELETE', '/a/b')).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'deny-2' } });
    expect(matchApi(index, 'DELETE', '/A')).toMatchObject({ allowed: false, reason: 'denied', grant: { code: 'deny-1' } });
    expect(matchApi(index, 'DELETE', '/b')).toMatchObject({ allowed: true });
  });

  it('a DENY with an unreadable pattern is widened to the subtree above; an unreadable ALLOW is ignored', () => {
    const index = indexGrants([
      api('all', '/*', ['*']),
      api('deny-star', '/a/b*', ['*'], { effect: 'DENY' }),
      api('deny-relative', 'x/y', ['delete'], { effect: 'DENY' }),
      api('deny-query', '/q/r?s=1', ['*'], { effect: 'DENY' }),
      api('allow-dots', '/z/../*', ['*']),
    ]);
    expect(matchApi(index, 'GET', '/a/c').grant?.code).toBe('deny-star');
    expect(matchApi(index, 'GET', '/a').grant?.code).toBe('deny-star');
    expect(matchApi(index, 'GET', '/b').allowed).toBe(true);
    expect(matchApi(index, 'DELETE', '/anything').grant?.code).toBe('deny-relative');
    expect(matchApi(index, 'GET', '/q/other').grant?.code).toBe('deny-query');
    expect(matchApi(indexGrants([api('allow-dots', '/z/../*', ['*'])]), 'GET', '/z').reason).toBe('no_grant');
  });

  it('a DENY pattern written in capitals still matches any case, even with caseSensitive', () => {
    const index = indexGrants([api('all', '/*', ['*']), api('deny', '/Admin/Panel', ['*'], { effect: 'DENY' })]);
    expect(matchApi(index, 'GET', '/admin/PANEL/', { caseSensitive: true, strict: true }).reason).toBe('denied');
    expect(matchApi(index, 'GET', '/admin/panel').reason).toBe('denied');
  });

  it('an absolute DENY for another origin does not apply; for ours it does; without apiOrigin, by its path', () => {
    const index = indexGrants([api('all', '/*', ['*']), api('deny', 'https://api.example.com/admin/*', ['*'], { effect: 'DENY' })]);
    expect(matchApi(index, 'GET', '/admin/x', { apiOrigin: 'https://other.example.com' }).allowed).toBe(true);
    expect(matchApi(index, 'GET', '/admin/x', { apiOrigin: 'https://api.example.com' }).reason).toBe('denied');
    // Without apiOrigin the guard cannot tell whether that origin is this API: the DENY applies by its path.
    expect(matchApi(index, 'GET', '/admin/x').reason).toBe('denied');
    expect(matchApi(index, 'GET', '/other').allowed).toBe(true);
  });

  describe('conditions (the core rules)', () => {
    const ip: PolicyCondition[] = [{ param: 'SourceIp', operator: 'IpAddress', value: '10.0.0.0/8' }];
    const index = indexGrants([
      api('cond-allow', '/c/*', ['read'], { condition: ip }),
      api('cond-deny', '/c/secret', ['read'], { effect: 'DENY', condition: ip }),
    ]);
    it('without a check, a conditional ALLOW does not apply and a conditional DENY does', () => {
      expect(matchApi(index, 'GET', '/c/x').reason).toBe('no_grant');
      expect(matchApi(index, 'GET', '/c/secret').reason).toBe('denied');
    });
    it('with a check, they follow its verdict', () => {
      expect(matchApi(index, 'GET', '/c/x', { conditions: () => true }).reason).toBe('allowed');
      expect(matchApi(index, 'GET', '/c/secret', { conditions: () => true }).reason).toBe('denied');
      expect(matchApi(index, 'GET', '/c/secret', { conditions: (g) => (g.effect === 'DENY' ? false : true) }).reason).toBe('allowed');
      expect(matchApi(index, 'GET', '/c/x', { conditions: () => undefined }).reason).toBe('no_grant');
    });
  });

  it('compiles a grant set once and reuses it; 10k grants match by trie', () => {
    const entries: AuthorizedResource[] = [];
    for (let i = 0; i < 10_000; i++) {
      entries.push(api(`r${i}`, i % 2 === 0 ? `/api/v1/res${i}/:id` : `/api/v1/res${i}/*`, ['read'], i % 997 === 0 ? { effect: 'DENY' } : {}));
    }
    const index = indexGrants(entries);
    const matcher = createApiMatcher();
    const compiled = matcher.compile(index);
    expect(matcher.compile(index)).toBe(compiled);
    // The default is case-sensitive: `caseSensitive: true` compiles alike, `false` folds (another trie).
    expect(createApiMatcher({ caseSensitive: true }).compile(index)).toBe(compiled);
    expect(createApiMatcher({ caseSensitive: false }).compile(index)).not.toBe(compiled);
    expect(compiled.size).toBe(10_000);
    expect(matcher.match(index, 'GET', '/api/v1/res9998/x')).toMatchObject({ allowed: true, grant: { code: 'r9998' } });
    expect(matcher.match(index, 'GET', '/api/v1/res9999/x/y')).toMatchObject({ allowed: true, grant: { code: 'r9999' } });
    expect(matcher.match(index, 'GET', '/api/v1/res9998/x/y').reason).toBe('no_grant');
    expect(matcher.match(index, 'GET', '/api/v1/res997/x').reason).toBe('denied');
    expect(matcher.match(index, 'GET', '/api/v1/res10000/x').reason).toBe('no_grant');
  });
});

describe('case folding follows the router that dispatches (defect 16)', () => {
  // U+212A KELVIN SIGN lower-cases to ASCII `k`: Fastify's router (caseSensitive: false) sends
  // `/api/v1/%E2%84%AAeys` to the `/api/v1/keys` route, so a DENY on that path must catch it.
  const KELVIN = '%E2%84%AA';
  const grants = indexGrants([
    api('v1', '/api/v1/*', ['*']),
    api('keys', '/api/v1/keys', ['*'], { effect: 'DENY' }),
    api('cafe', '/api/v1/CAFÉ', ['*'], { effect: 'DENY' }),
    api('sigma', '/api/v1/ΟΔΟΣ', ['*'], { effect: 'DENY' }),
  ]);

  it.each<[string, string]>([
    [`/api/v1/${KELVIN}eys`, 'keys'],
    [`/api/v1/${KELVIN.toLowerCase()}EYS/`, 'keys'],
    [`/API/V1/${KELVIN}eys?x=1`, 'keys'],
    ['/api/v1/caf%C3%A9', 'cafe'],
    ['/api/v1/caf%c3%a9/', 'cafe'],
    ['/api/v1/CAF%C3%89', 'cafe'],
    // Final sigma: `ΟΔΟΣ` lower-cases to `οδος` (U+03C2 at the end), and so does `ΟΔΟς`.
    ['/api/v1/%CE%BF%CE%B4%CE%BF%CF%82', 'sigma'],
    ['/api/v1/%CE%9F%CE%94%CE%9F%CF%82', 'sigma'],
  ])('a DENY catches %s whatever the options', (target, code) => {
    for (const options of [undefined, { caseSensitive: true, strict: true }]) {
      expect(matchApi(grants, 'GET', target, options)).toMatchObject({ reason: 'denied', grant: { code } });
    }
  });

  it('a lookalike that no router folds onto the denied path is another path', () => {
    // U+0130 lower-cases to `i` + U+0307, U+017F stays itself: neither becomes ASCII.
    expect(matchApi(grants, 'GET', '/api/v1/%C4%B0eys').reason).toBe('allowed');
    expect(matchApi(grants, 'GET', '/api/v1/%C5%BFeys').reason).toBe('allowed');
    expect(matchApi(grants, 'GET', '/api/v1/keys%C4%B0').reason).toBe('allowed');
  });

  it('by default an ALLOW matches case-sensitively whatever the router folds (a router never folds a parameter value)', () => {
    const exact = indexGrants([api('keys', '/api/v1/keys', ['read']), api('files', '/files/public/*', ['read'])]);
    for (const caseFold of ['unicode', 'ascii', 'none'] as const) {
      const options = { router: { caseFold, ignoreTrailingSlash: true } };
      expect(matchApi(exact, 'GET', '/api/v1/keys', options).reason).toBe('allowed');
      expect(matchApi(exact, 'GET', '/API/V1/KEYS', options).reason).toBe('no_grant');
      expect(matchApi(exact, 'GET', `/api/v1/${KELVIN}eys`, options).reason).toBe('no_grant');
      expect(matchApi(exact, 'GET', '/files/public/a', options).reason).toBe('allowed');
      // A route `/files/*` runs with `PUBLIC/a` here: not the value the ALLOW names.
      expect(matchApi(exact, 'GET', '/FILES/PUBLIC/a', options).reason).toBe('no_grant');
      expect(matchApi(exact, 'GET', '/FILES/PUBLIC/a', { ...options, caseSensitive: true }).reason).toBe('no_grant');
    }
  });

  it('with caseSensitive: false an ALLOW folds as the router does: Unicode for find-my-way, ASCII for Express, none when case-sensitive', () => {
    const exact = indexGrants([api('keys', '/api/v1/keys', ['read']), api('cafe', '/api/v1/café', ['read'])]);
    const fastify = { router: { caseFold: 'unicode', ignoreTrailingSlash: false }, caseSensitive: false } as const;
    const express = { router: { caseFold: 'ascii', ignoreTrailingSlash: true }, caseSensitive: false } as const;
    const sensitive = { router: { caseFold: 'none', ignoreTrailingSlash: true }, caseSensitive: false } as const;
    expect(matchApi(exact, 'GET', `/api/v1/${KELVIN}eys`, fastify).reason).toBe('allowed');
    expect(matchApi(exact, 'GET', '/API/V1/CAF%C3%89', fastify).reason).toBe('allowed');
    expect(matchApi(exact, 'GET', `/api/v1/${KELVIN}eys`, express).reason).toBe('no_grant');
    expect(matchApi(exact, 'GET', '/API/V1/CAF%C3%89', express).reason).toBe('no_grant');
    expect(matchApi(exact, 'GET', '/API/V1/CAF%C3%A9', express).reason).toBe('allowed');
    expect(matchApi(exact, 'GET', '/API/V1/KEYS', sensitive).reason).toBe('no_grant');
    expect(matchApi(exact, 'GET', '/api/v1/keys', sensitive).reason).toBe('allowed');
    // caseSensitive: true wins over a folding router.
    expect(matchApi(exact, 'GET', '/API/V1/KEYS', { ...fastify, caseSensitive: true }).reason).toBe('no_grant');
  });

  it('a router that tells `/a` from `/a/` makes an ALLOW strict; a DENY still ignores the slash', () => {
    const router = { caseFold: 'ascii', ignoreTrailingSlash: false } as const;
    const index = indexGrants([api('users', '/api/v1/users', ['read']), api('deny', '/api/v1/users/0', ['*'], { effect: 'DENY' }), api('all', '/api/v1/users/*', ['read'])]);
    expect(matchApi(index, 'GET', '/api/v1/users/', { router }).reason).toBe('allowed'); // by the wildcard
    expect(matchApi(indexGrants([api('users', '/api/v1/users', ['read'])]), 'GET', '/api/v1/users/', { router }).reason).toBe('no_grant');
    expect(matchApi(indexGrants([api('users', '/api/v1/users', ['read'])]), 'GET', '/api/v1/users', { router }).reason).toBe('allowed');
    expect(matchApi(index, 'GET', '/api/v1/users/0/', { router }).reason).toBe('denied');
  });

  it('router rules are validated, naming the option', () => {
    expect(() => matchApi(grants, 'GET', '/', { router: { caseFold: 'latin', ignoreTrailingSlash: true } as never })).toThrow('router.caseFold');
    expect(() => matchApi(grants, 'GET', '/', { router: { caseFold: 'none' } as never })).toThrow('router.ignoreTrailingSlash');
  });
});

describe('the examples of docs/api-mode.md', () => {
  const grants = indexGrants([
    api('api-v1', '/api/v1/*', ['read', 'create', 'update']),
    api('admin', '/api/v1/admin/*', ['*'], { effect: 'DENY' }),
    api('orders', '/api/v1/orders/:id', ['delete']),
  ]);
  it.each<[string, string, string, string | undefined]>([
    ['GET', '/api/v1/users', 'allowed', 'api-v1'],
    ['DELETE', '/api/v1/users/1', 'no_grant', undefined],
    ['DELETE', '/api/v1/orders/7', 'allowed', 'orders'],
    ['GET', '/api/v1/admin/stats', 'denied', 'admin'],
    ['GET', '/API/V1/ADMIN/', 'denied', 'admin'],
    ['DELETE', '/api/v1/admin/users/1', 'denied', 'admin'],
    ['GET', '/reports', 'no_grant', undefined],
    ['GET', '/api/v1/../admin', 'invalid_target', undefined],
  ])('%s %s -> %s', (method, target, reason, grant) => {
    const result = matchApi(grants, method, target);
    expect(result.reason).toBe(reason);
    expect(result.grant?.code).toBe(grant);
  });
  it('a DENY typo widens to the subtree above it', () => {
    const index = indexGrants([api('all', '/*', ['*']), api('typo', '/api/v1/secret*', ['*'], { effect: 'DENY' })]);
    expect(matchApi(index, 'GET', '/api/v1/users').reason).toBe('denied');
    expect(matchApi(index, 'GET', '/api/v2/users').reason).toBe('allowed');
  });
});

describe('property: spellings of one path decide alike', () => {
  // Deterministic PRNG, so a failure is reproducible.
  function mulberry32(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const random = mulberry32(0x5eed);
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const WORDS = ['api', 'v1', 'admin', 'Users', 'a', 'B-c', 'x_y', 'z.z', '~t'];

  function respell(segment: string): string {
    let out = '';
    for (const ch of segment) {
      const r = random();
      if (r < 0.3) out += `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
      else if (r < 0.4) out += `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
      else if (r < 0.7) out += ch.toUpperCase();
      else out += ch;
    }
    return out;
  }

  it('a DENY is never escaped by case, trailing slash or encoded unreserved characters', () => {
    for (let run = 0; run < 300; run++) {
      const segments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS));
      const path = `/${segments.join('/')}`;
      const index = indexGrants([api('all', '/*', ['*']), api('deny', pick([path, `${path}/`, `${path}/*`]), ['*'], { effect: 'DENY' })]);
      const variant = `/${segments.map(respell).join('/')}${random() < 0.5 ? '/' : ''}${random() < 0.5 ? '?q=1' : ''}`;
      for (const options of [undefined, { caseSensitive: true, strict: true }]) {
        expect(matchApi(index, pick(['GET', 'POST', 'DELETE']), variant, options), `${variant} vs ${path}`).toMatchObject({ reason: 'denied' });
      }
    }
  });

  it('an exact ALLOW matches its own case and a trailing slash (defaults), no escaped spelling, and nothing one segment longer', () => {
    for (let run = 0; run < 300; run++) {
      const segments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS));
      const path = `/${segments.join('/')}`;
      const index = indexGrants([api('exact', path, ['read'])]);
      const variant = `/${segments.map(respell).join('/')}${random() < 0.5 ? '/' : ''}`;
      // Express and @koa/router route `%61pi` elsewhere than `api`: an ALLOW literal never matches it.
      const same = !variant.includes('%') && variant.replace(/\/$/, '') === path;
      expect(matchApi(index, 'GET', variant).allowed, `${variant} vs ${path}`).toBe(same);
      expect(matchApi(index, 'GET', `${variant.replace(/\/$/, '')}/${pick(WORDS)}`).allowed).toBe(false);
    }
  });

  it('with caseSensitive: false an exact ALLOW matches every case of its path and a trailing slash, no escaped spelling, and nothing one segment longer', () => {
    const folding = { caseSensitive: false };
    for (let run = 0; run < 300; run++) {
      const segments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(WORDS));
      const path = `/${segments.join('/')}`;
      const index = indexGrants([api('exact', path, ['read'])]);
      const variant = `/${segments.map(respell).join('/')}${random() < 0.5 ? '/' : ''}`;
      expect(matchApi(index, 'GET', variant, folding).allowed, `${variant} vs ${path}`).toBe(!variant.includes('%'));
      expect(matchApi(index, 'GET', `${variant.replace(/\/$/, '')}/${pick(WORDS)}`, folding).allowed).toBe(false);
    }
  });
});

describe('options are validated once, naming the option', () => {
  it.each<[string, unknown]>([
    ['api.methodActions.GET', { methodActions: { GET: '' } }],
    ['api.methodActions', { methodActions: { 'BAD METHOD': 'x' } }],
    ['api.methodActions', { methodActions: ['GET'] }],
    ['api.caseSensitive', { caseSensitive: 'yes' }],
    ['api.strict', { strict: 1 }],
    ['api.apiOrigin', { apiOrigin: 'https://api.example.com/path' }],
    ['api.apiOrigin', { apiOrigin: 'ftp://api.example.com' }],
    ['api.apiOrigin', { apiOrigin: 'api.example.com' }],
    ['api.publicPaths[1]', { publicPaths: ['/health', 'health'] }],
    ['api.publicPaths[0]', { publicPaths: ['/docs*'] }],
    ['api.publicPaths', { publicPaths: '/health' }],
    ['api.publicPath', { publicPath: ['/health'] }],
    // The router's rules come from the adapter, which reads them from the app.
    ['api.router', { router: { caseFold: 'unicode', ignoreTrailingSlash: true } }],
  ])('%s', (name, options) => {
    expect(() => apiModeSpec(options as never)).toThrow(TypeError);
    expect(() => apiModeSpec(options as never)).toThrow(name);
  });

  it('public paths use the pattern syntax, caseSensitive and strict', () => {
    const spec = apiModeSpec({ publicPaths: ['/health', '/docs/*', '/files/:id'] });
    const folding = apiModeSpec({ publicPaths: ['/health', '/docs/public/*'], caseSensitive: false });
    const check = (target: string, which = spec) => {
      const path = normalizeApiTarget(target);
      if (!path.ok) throw new Error('bad target');
      return which.isPublic(path);
    };
    expect([check('/health'), check('/health/'), check('/docs'), check('/docs/a/b'), check('/files/1')]).toEqual([true, true, true, true, true]);
    expect([check('/healthz'), check('/health/x'), check('/files/1/2'), check('/')]).toEqual([false, false, false, false]);
    // Case-sensitive by default, whatever the router folds; `caseSensitive: false` folds as it does.
    expect([check('/HEALTH/'), check('/Docs/a')]).toEqual([false, false]);
    expect([check('/HEALTH/', folding), check('/DOCS/PUBLIC/x', folding)]).toEqual([true, true]);
    const strict = apiModeSpec({ publicPaths: ['/health'], caseSensitive: true, strict: true });
    const path = normalizeApiTarget('/Health');
    expect(path.ok && strict.isPublic(path)).toBe(false);
  });

  it('public paths match no wider than the router: its trailing-slash rule, and by default no case folding', () => {
    const spec = apiModeSpec({ publicPaths: ['/health', '/keys/*'] });
    const check = (target: string, router?: RouterRules) => {
      const path = normalizeApiTarget(target);
      if (!path.ok) throw new Error('bad target');
      return spec.isPublic(path, router);
    };
    const fastifyDefaults: RouterRules = { caseFold: 'none', ignoreTrailingSlash: false };
    const fastifyFolding: RouterRules = { caseFold: 'unicode', ignoreTrailingSlash: true };
    expect([check('/health', fastifyDefaults), check('/HEALTH', fastifyDefaults), check('/health/', fastifyDefaults)]).toEqual([true, false, false]);
    expect([check('/health/', fastifyFolding), check('/HEALTH/', fastifyFolding), check('/%E2%84%AAeys/x', fastifyFolding)]).toEqual([true, false, false]);
  });

  it('with caseSensitive: false, public paths fold as the router folds, no wider', () => {
    const spec = apiModeSpec({ publicPaths: ['/health', '/keys/*'], caseSensitive: false });
    const check = (target: string, router?: RouterRules) => {
      const path = normalizeApiTarget(target);
      if (!path.ok) throw new Error('bad target');
      return spec.isPublic(path, router);
    };
    const fastifyDefaults: RouterRules = { caseFold: 'none', ignoreTrailingSlash: false };
    const fastifyFolding: RouterRules = { caseFold: 'unicode', ignoreTrailingSlash: true };
    expect([check('/health', fastifyDefaults), check('/HEALTH', fastifyDefaults), check('/health/', fastifyDefaults)]).toEqual([true, false, false]);
    expect([check('/HEALTH/', fastifyFolding), check('/%E2%84%AAeys/x', fastifyFolding), check('/%E2%84%AAeys/x')]).toEqual([true, true, false]);
  });
});
