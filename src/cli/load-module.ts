/**
 * Loads a user's module by path, as Node would run it: CommonJS (`.cjs`, or `.js` outside a
 * `"type": "module"` package) through `require`, everything else through `import()`. Picks the named
 * export given, else the default (`module.exports` for CommonJS); awaits a promise export.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommandError, EXIT, UsageError } from './exit-codes.js';
import { printable } from './io.js';

export interface LoadedModule {
  /** Absolute path. */
  file: string;
  kind: 'esm' | 'cjs';
  /** The export used. */
  value: unknown;
  /** Which export it was: the named one or `default`. */
  exportName: string;
}

function nearestPackageType(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** `esm` or `cjs`, as Node decides for a file. */
export function moduleKind(file: string): 'esm' | 'cjs' {
  const ext = extname(file);
  if (ext === '.cjs' || ext === '.cts') return 'cjs';
  if (ext === '.mjs' || ext === '.mts') return 'esm';
  return nearestPackageType(file) === 'module' ? 'esm' : 'cjs';
}

/** Errors the engine raises about the file's own text: their messages quote it. */
const ENGINE_ERRORS = new Set(['SyntaxError', 'ReferenceError', 'TypeError', 'RangeError']);

/**
 * What a module that failed to load is reported by. An error the module threw (`Error`, its own
 * classes, the guard's option TypeErrors) by its name and message; an engine error about the file's
 * text by its name and line only, since its message quotes that text: `check-config .env` printed
 * `ReferenceError: <the secret> is not defined`, V8's JSON errors quote the file around the mistake.
 * A message is shown on one line, its control and bidi characters escaped ({@link printable}).
 */
export function loadFailure(error: unknown, file: string): string {
  if (!(error instanceof Error)) return typeof error === 'string' ? printable(error) : typeof error;
  if (!ENGINE_ERRORS.has(error.name) || error.message.startsWith('genauth-guard: ')) return printable(`${error.name}: ${error.message}`);
  const stack = typeof error.stack === 'string' ? error.stack : '';
  let line: string | undefined;
  for (const place of [file, pathToFileURL(file).href]) {
    const at = stack.indexOf(`${place}:`);
    if (at !== -1) {
      line = /^(\d+)/.exec(stack.slice(at + place.length + 1))?.[1];
      if (line !== undefined) break;
    }
  }
  return printable(line === undefined ? error.name : `${error.name} (line ${line})`);
}

/**
 * A CommonJS module's exports as the namespace an import would give, with two readings of what
 * compilers write: TypeScript's (and Babel's) `export default x` is `exports.default` beside an
 * `__esModule` marker, so that is the default; and a module that exports nothing (`module.exports`
 * left `{}`, an app that only listens) has no default, so it is told to export one.
 */
function commonJsNamespace(exported: unknown, name: string): Record<string, unknown> {
  if (typeof exported !== 'object' && typeof exported !== 'function') return { default: exported };
  if (exported === null) return { default: null };
  const object = exported as Record<string, unknown>;
  if (object.__esModule === true) return { default: object.default, [name]: object[name] };
  if (typeof exported === 'object' && Object.getPrototypeOf(exported) === Object.prototype && Object.keys(object).length === 0) return {};
  return { default: exported, [name]: object[name] };
}

/**
 * Loads `path` (relative to the working directory) and returns its `name` export, else its default.
 * A missing file or export is a usage error; a module that throws while loading is a failure (exit 1)
 * reported by the error's name and message only (an engine error about its text: name and line).
 */
export async function loadModuleExport(path: string, name: string, what: string): Promise<LoadedModule> {
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`${path}: no such file`);
  const kind = moduleKind(file);
  let namespace: Record<string, unknown>;
  try {
    if (kind === 'cjs') {
      namespace = commonJsNamespace(createRequire(file)(file), name);
    } else {
      namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (error) {
    throw new CommandError(`${path} could not be loaded: ${loadFailure(error, file)}`, EXIT.FAILED);
  }
  const exportName = namespace[name] !== undefined ? name : 'default';
  let value = namespace[exportName];
  if (value === undefined) throw new UsageError(`${path} exports no ${what}: export it as default or as "${name}"`);
  // A promise of it (e.g. `export default NestFactory.create(AppModule)`); not any thenable: a Fastify
  // instance is one, and awaiting it would boot the app.
  // Its rejection is a load failure too, told the same way (a JSON.parse of a secrets file quotes it).
  if (value instanceof Promise) {
    try {
      value = await (value as Promise<unknown>);
    } catch (error) {
      throw new CommandError(`${path} could not be loaded: ${loadFailure(error, file)}`, EXIT.FAILED);
    }
  }
  return { file, kind, value, exportName };
}
