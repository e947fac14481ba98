// Bundles internal source modules that dist/ does not export (API-mode matching) with esbuild (a
// dependency of tsup), into a temp folder, so the micro-benchmarks measure the current source.
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Imports `src/<relative>.ts` (bundled, ESM); for several, one bundle exporting all of them, so that they
 * share their modules (an index one makes is one of the other's own, `instanceof` included).
 */
export async function importSource(relative) {
  const outdir = mkdtempSync(join(tmpdir(), 'genauth-guard-bench-'));
  const outfile = join(outdir, 'module.mjs');
  const entries = Array.isArray(relative) ? relative : [relative];
  await build({
    stdin: {
      contents: entries.map((entry) => `export * from ${JSON.stringify(`./src/${entry}.ts`)};`).join('\n'),
      resolveDir: ROOT,
      sourcefile: 'bench-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return import(pathToFileURL(outfile).href);
}
