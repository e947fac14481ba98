// Bundles internal source modules that dist/ does not export (API-mode matching) with esbuild (a
// dependency of tsup), into a temp folder, so the micro-benchmarks measure the current source.
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Imports `src/<relative>.ts` (bundled, ESM). */
export async function importSource(relative) {
  const outdir = mkdtempSync(join(tmpdir(), 'genauth-guard-bench-'));
  const outfile = join(outdir, 'module.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', `${relative}.ts`)],
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
