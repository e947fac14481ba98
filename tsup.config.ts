import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/adapters/express.ts',
    koa: 'src/adapters/koa.ts',
    fastify: 'src/adapters/fastify.ts',
    nest: 'src/adapters/nest/index.ts',
    testing: 'src/testing/index.ts',
    otel: 'src/otel/index.ts',
    // The `genauth-guard` bin (package.json "bin"): dist/cli.js, its hashbang kept from the source.
    cli: 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  splitting: true,
  treeshake: true,
  // import.meta.url in the CommonJS build (undici-pool.ts resolves undici from the package's own file).
  shims: true,
});
