import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { POOL_FILE, loadPool } from '../../src/genauth/undici-pool.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const load = createRequire(import.meta.url);

describe('undici Pool loaded by its own file', () => {
  it('is the very Pool undici exports (so a moved file is caught here when undici is upgraded)', async () => {
    expect(load.resolve(POOL_FILE)).toContain('undici');
    const required: string[] = [];
    const watching = ((id: string) => (required.push(id), load(id))) as NodeJS.Require;
    expect(await loadPool(watching)).toBe(Pool);
    expect(required).toEqual([POOL_FILE]);
  });

  it('falls back to the entry point when the file is gone', async () => {
    expect(await loadPool(load, 'undici/lib/dispatcher/no-such-pool.js')).toBe(Pool);
  });

  it('falls back to the entry point when the file holds something else', async () => {
    expect(await loadPool(load, 'undici/lib/dispatcher/client.js')).toBe(Pool);
    expect(await loadPool(load, 'undici/lib/core/util.js')).toBe(Pool);
  });

  it('falls back to the entry point, by import, when nothing can be required (an app bundled into one file)', async () => {
    const nothing = (() => {
      throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
    }) as unknown as NodeJS.Require;
    expect(await loadPool(nothing)).toBe(Pool);
    expect(await loadPool(undefined)).toBe(Pool);
  });

  // The point of the file: an adapter's guard never loads undici's entry point (fetch, WebSocket,
  // mocks), and loads the Pool on its first GenAuth call (here a management token from a closed port).
  // Run on the built package, as ESM and as CommonJS, in a fresh process.
  it.each(['esm', 'cjs'])('the built Express adapter (%s) loads the Pool without undici\'s entry point', (kind) => {
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(process.cwd() + '/');
      const m = ${kind === 'esm' ? "await import('genauth-guard/express')" : "req('genauth-guard/express')"};
      const guard = m.createExpressGuard({
        genauth: { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeyId: 'id', accessKeySecret: 'secret' },
        jwt: { secret: 'a-secret-of-thirty-two-bytes-or-more!!', issuer: 'iss', audience: 'aud', algorithms: ['HS256'] },
      });
      const loaded = () => Object.keys(req.cache).map((file) => file.split('node_modules/').pop());
      const before = loaded().includes('undici/lib/dispatcher/pool.js');
      await guard.ready().catch(() => {});
      const files = loaded();
      console.log(JSON.stringify({ before, entry: files.includes('undici/index.js'), pool: files.includes('undici/lib/dispatcher/pool.js') }));
      await guard.close();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toEqual({ before: false, entry: false, pool: true });
  });
});
