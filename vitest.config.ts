import { defineConfig } from 'vitest/config';

/**
 * The peer range `@koa/router >=12` is tested: these files run again on 12, 13 and 14 (dev
 * dependencies `koa-router12` ... aliased as '@koa/router'; test/koa-router.ts says which), their Koa
 * tests only. Everything runs once on the installed 15.
 */
const KOA_ROUTER_FILES = [
  'test/paths/router-options.test.ts',
  'test/paths/differential.test.ts',
  'test/paths/allow-case.test.ts',
  'test/paths/encoded-literal.test.ts',
  'test/report/koa.test.ts',
  'test/adapters/koa-params.test.ts',
  'test/adapters/koa.test.ts',
  'test/adapters/koa-api-method.test.ts',
  'test/adversarial/absolute-form-koa.test.ts',
  'test/adversarial/missing-value-resource.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'] } },
      ...[12, 13, 14].map((major) => ({
        extends: true,
        resolve: { alias: { '@koa/router': `koa-router${major}` } },
        test: {
          name: `@koa/router ${major}`,
          include: KOA_ROUTER_FILES,
          testNamePattern: /koa/i,
          env: { KOA_ROUTER_MAJOR: String(major) },
        },
      })),
    ],
  },
});
