import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// package.json as published: every subpath in "exports" has types under TypeScript's node10 resolution
// (which ignores "exports" and reads "typesVersions"), pointing at the same CommonJS declarations that
// "require" gets; the metadata registries show is there. A new subpath fails here until it is mapped.
type Conditions = { import?: { types?: string }; require?: { types?: string } };
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, Conditions | string>;
  typesVersions: Record<string, Record<string, string[]>>;
  files: string[];
  repository?: { url?: string };
  homepage?: string;
  bugs?: { url?: string };
  keywords?: string[];
  license?: string;
  scripts: Record<string, string>;
};
const subpaths = Object.entries(pkg.exports).filter(([key]) => key !== '.' && key !== './package.json');

describe('package.json', () => {
  it.each(subpaths)('"%s" has node10 types in typesVersions, the ones "require" resolves', (key, conditions) => {
    const require = (conditions as Conditions).require?.types;
    expect(require, `${key} needs require.types`).toBeDefined();
    expect(pkg.typesVersions['*']?.[key.slice(2)]).toEqual([require]);
  });

  it('maps nothing in typesVersions that "exports" does not export', () => {
    const mapped = Object.keys(pkg.typesVersions['*'] ?? {}).map((name) => `./${name}`);
    expect(mapped.sort()).toEqual(subpaths.map(([key]) => key).sort());
  });

  it('ships a LICENSE and the metadata registries show', () => {
    expect(existsSync(new URL('../../LICENSE', import.meta.url))).toBe(true);
    expect(pkg.license).toBe('MIT');
    expect(pkg.files).toContain('LICENSE');
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs?.url).toMatch(/^https:\/\//);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['genauth', 'authing', 'express']));
  });

  it('has the packaging checks CI runs', () => {
    expect(pkg.scripts['lint:package']).toMatch(/publint/);
    expect(pkg.scripts['lint:package']).toMatch(/attw --pack/);
    expect(readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')).toMatch(/npm run lint:package/);
  });
});
