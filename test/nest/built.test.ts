import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built subpath (tsup/esbuild: no decorator metadata) must run a real Nest app as ESM and as
// CommonJS. Needs `npm run build` first (`npm test` does it); skipped when dist/ is absent.
const root = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(new URL('../../dist/nest.js', import.meta.url)) && existsSync(new URL('../../dist/nest.cjs', import.meta.url));

describe.skipIf(!built)('built genauth-guard/nest', () => {
  it.each(['smoke.mjs', 'smoke.cjs'])('%s: allow, 401, public, secure by default on both platforms', (script) => {
    const output = execFileSync(process.execPath, [`test/nest/built/${script}`], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, string[]>;
    for (const platform of ['express', 'fastify']) {
      const [allowed, anonymous, open, undecorated] = result[platform]!;
      expect(allowed).toBe('200  {"user":"alice"}');
      expect(anonymous).toMatch(/^401 Bearer realm="api" \{.*"code":"ERR_MISSING_TOKEN"\}$/);
      expect(open).toBe('200  {"ok":true}');
      expect(undecorated).toMatch(/^403 Bearer realm="api", error="insufficient_scope" /);
    }
  });
});
