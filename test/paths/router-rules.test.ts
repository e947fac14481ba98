/**
 * The router rules each adapter reads from real app objects: Fastify's initialConfig (routerOptions
 * winning over the deprecated top-level spelling) and Express's base router or settings.
 */
import express5 from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { expressRouterRules, fastifyRouterRules } from '../../src/adapters/router-rules.js';

describe('fastifyRouterRules', () => {
  it.each<[string, Record<string, unknown>, { caseFold: string; ignoreTrailingSlash: boolean }]>([
    ['defaults', {}, { caseFold: 'none', ignoreTrailingSlash: false }],
    ['routerOptions', { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } }, { caseFold: 'unicode', ignoreTrailingSlash: true }],
    ['top-level', { caseSensitive: false, ignoreTrailingSlash: true }, { caseFold: 'unicode', ignoreTrailingSlash: true }],
    ['routerOptions wins over top-level', { caseSensitive: false, routerOptions: { caseSensitive: true } }, { caseFold: 'none', ignoreTrailingSlash: false }],
    ['top-level caseSensitive with other routerOptions', { caseSensitive: false, routerOptions: { ignoreTrailingSlash: true } }, { caseFold: 'unicode', ignoreTrailingSlash: true }],
    // Fastify reports routerOptions.ignoreTrailingSlash = false here though the router ignores the slash:
    // read as significant, which is only stricter.
    ['top-level ignoreTrailingSlash with other routerOptions', { ignoreTrailingSlash: true, routerOptions: { caseSensitive: false } }, { caseFold: 'unicode', ignoreTrailingSlash: false }],
  ])('%s', async (_label, options, expected) => {
    const app = Fastify(options);
    try {
      expect(fastifyRouterRules(app)).toEqual(expected);
      // An encapsulated scope sees the root's configuration.
      await app.register(async (scope) => {
        expect(fastifyRouterRules(scope)).toEqual(expected);
      });
      await app.ready();
    } finally {
      await app.close();
    }
  });

  it('an instance it cannot read gets Fastify defaults, the strictest rules', () => {
    expect(fastifyRouterRules(undefined)).toEqual({ caseFold: 'none', ignoreTrailingSlash: false });
    expect(fastifyRouterRules({ initialConfig: null })).toEqual({ caseFold: 'none', ignoreTrailingSlash: false });
  });
});

describe('expressRouterRules', () => {
  it.each([
    ['Express 4', express4 as unknown as typeof express5],
    ['Express 5', express5],
  ])('%s: the base router, or the settings before it exists', (_name, express) => {
    const plain = express();
    expect(expressRouterRules(plain)).toEqual({ caseFold: 'ascii', ignoreTrailingSlash: true });
    const sensitive = express();
    sensitive.set('case sensitive routing', true);
    sensitive.set('strict routing', true);
    expect(expressRouterRules(sensitive)).toEqual({ caseFold: 'none', ignoreTrailingSlash: false });
    sensitive.get('/x', () => undefined); // builds the base router from the settings
    expect(expressRouterRules(sensitive)).toEqual({ caseFold: 'none', ignoreTrailingSlash: false });
    // Settings changed after the router exists do not change routing: the router is what counts.
    sensitive.set('case sensitive routing', false);
    expect(expressRouterRules(sensitive)).toEqual({ caseFold: 'none', ignoreTrailingSlash: false });
  });

  it('no app: unknown, so the API-mode options decide', () => {
    expect(expressRouterRules(undefined)).toBeUndefined();
  });
});
