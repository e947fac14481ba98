/**
 * `@opentelemetry/api` is an optional peer dependency: only the otel subpath may import it. Checked in
 * the sources and in the build (run after `npm run build`, as test/package is): no other entry or
 * shared chunk names it, so the guard loads where it is not installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

it('no source outside src/otel imports @opentelemetry', () => {
  const offenders = filesUnder(join(root, 'src'))
    .filter((file) => !file.includes(`${join('src', 'otel')}`) && file.endsWith('.ts'))
    .filter((file) => readFileSync(file, 'utf8').includes('@opentelemetry'));
  expect(offenders).toEqual([]);
});

it('no built file but the otel entry names @opentelemetry', () => {
  const built = filesUnder(join(root, 'dist')).filter((file) => /\.(c?js)$/.test(file));
  expect(built.length).toBeGreaterThan(0);
  const naming = built.filter((file) => readFileSync(file, 'utf8').includes('@opentelemetry')).map((file) => file.slice(join(root, 'dist').length + 1));
  expect(naming.sort()).toEqual(['otel.cjs', 'otel.js']);
});

it('peer dependency: optional, ^1.9.0', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
    dependencies: Record<string, string>;
  };
  expect(pkg.peerDependencies['@opentelemetry/api']).toBe('^1.9.0');
  expect(pkg.peerDependenciesMeta['@opentelemetry/api']?.optional).toBe(true);
  expect(Object.keys(pkg.dependencies).filter((name) => name.startsWith('@opentelemetry'))).toEqual([]);
});
