import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The suite runs after `npm run build` (npm test does both): every documented subpath must load from
// dist/ through the package's own name, as ESM and as CommonJS, in a fresh Node process.
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
};
const subpaths = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));

const EXPECTED: Record<string, string> = {
  'genauth-guard': 'createGuard',
  'genauth-guard/express': 'createExpressGuard',
  'genauth-guard/koa': 'createKoaGuard',
  'genauth-guard/fastify': 'genauthGuard',
  'genauth-guard/nest': 'GenAuthGuardModule',
  'genauth-guard/testing': 'startEmulator',
  'genauth-guard/otel': 'instrumentGenAuthGuard',
};

function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe('built subpath exports', () => {
  it('documents the subpaths we ship', () => {
    for (const required of ['genauth-guard', 'genauth-guard/express', 'genauth-guard/testing']) expect(subpaths).toContain(required);
  });

  it.each(subpaths)('%s loads as ESM and as CommonJS with its main export', (specifier) => {
    const name = EXPECTED[specifier];
    expect(name, `add ${specifier} to EXPECTED`).toBeDefined();
    const esm = run(['--input-type=module', '-e', `const m = await import(${JSON.stringify(specifier)}); console.log(typeof m[${JSON.stringify(name)}]);`]);
    const cjs = run(['-e', `const m = require(${JSON.stringify(specifier)}); console.log(typeof m[${JSON.stringify(name)}]);`]);
    expect(esm.trim()).toBe('function');
    expect(cjs.trim()).toBe('function');
  });

  it('errors are recognised across the ESM and CJS copies', () => {
    const out = run([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       const esm = await import('genauth-guard');
       const cjs = createRequire(process.cwd() + '/')('genauth-guard');
       const err = new cjs.MissingTokenError();
       console.log(esm.isGuardError(err), err instanceof esm.GuardError);`,
    ]);
    expect(out.trim()).toBe('true false');
  });
});
