// A fresh TypeScript project that installs the packed tarball the way a user's does, without the network:
// the tarball is unpacked into node_modules/genauth-guard and every other package (the tarball's own
// `dependencies`, plus what the user adds) is linked from this repository's node_modules, so a dependency
// missing from the packed package.json is missing here too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** One way users compile: the module format of their package and TypeScript's module settings. */
export interface ProjectKind {
  name: string;
  type: 'module' | 'commonjs';
  module: string;
  moduleResolution: string;
}

export const PROJECT_KINDS: ProjectKind[] = [
  { name: 'ESM, node16', type: 'module', module: 'node16', moduleResolution: 'node16' },
  { name: 'CJS, node16', type: 'commonjs', module: 'node16', moduleResolution: 'node16' },
  { name: 'ESM, bundler', type: 'module', module: 'preserve', moduleResolution: 'bundler' },
  { name: 'CJS, node10', type: 'commonjs', module: 'commonjs', moduleResolution: 'node10' },
];

/**
 * What a TypeScript Express user installs next to genauth-guard (docs/typescript.md says so), and
 * @types/express-serve-static-core, which npm hoists beside them as a dependency of @types/express.
 */
export const USER_PACKAGES = ['express', '@types/express', '@types/express-serve-static-core', '@types/node', 'typescript'];

/** Packs the repository (dist/ must be built) into `dir`; returns the tarball's path. */
export function pack(dir: string): string {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8' });
  const [info] = JSON.parse(out) as Array<{ filename: string }>;
  return join(dir, info!.filename);
}

function link(projectDir: string, name: string): void {
  const target = join(projectDir, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules', name), target, 'dir');
}

/**
 * Another @types/node than the repository's: the folder in this repository's node_modules that holds
 * it (an npm alias), and the user packages installed with it (framework types are left out: with
 * symlinks preserved, their own @types dependencies would have to be linked one by one).
 */
export interface OtherNodeTypes {
  folder: string;
  packages: string[];
}

/** Creates the project in `dir`: package.json, a strict tsconfig, the tarball installed, `files` in src/. */
export function createProject(dir: string, kind: ProjectKind, tarball: string, files: Record<string, string>, nodeTypes?: OtherNodeTypes): void {
  const installed = join(dir, 'node_modules', 'genauth-guard');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of [...Object.keys(manifest.dependencies ?? {}), ...(nodeTypes?.packages ?? USER_PACKAGES)]) link(dir, name);
  if (nodeTypes !== undefined) {
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules', nodeTypes.folder), join(dir, 'node_modules', '@types', 'node'), 'dir');
  }

  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: kind.type }, null, 2));
  const compilerOptions = {
    target: 'ES2022',
    module: kind.module,
    moduleResolution: kind.moduleResolution,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: false,
    types: ['node'],
    // Resolved from where they are linked, the dependencies' `/// <reference types="node" />` find the
    // project's @types/node, not the repository's (which would load both).
    ...(nodeTypes === undefined ? {} : { preserveSymlinks: true }),
    rootDir: 'src',
    outDir: 'dist',
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2));
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'src', name), text);
}

/** Runs the project's own `tsc`; returns its output (throws with it when compilation fails). */
export function compile(dir: string): string {
  try {
    return execFileSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed in ${dir}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
  }
}
