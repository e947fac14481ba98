import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { POOL_FILE, loadPool } from '../../src/genauth/undici-pool.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const load = createRequire(import.meta.url);

describe('undici Pool loaded by its own file', () => {
  it('is the very Pool undici exports (so a moved file is caught here when undici is upgraded)', () => {
    expect(load.resolve(POOL_FILE)).toContain('undici');
    expect(loadPool()).toBe(Pool);
  });

  it('falls back to the entry point when the file is gone', () => {
    expect(loadPool(load, 'undici/lib/dispatcher/no-such-pool.js')).toBe(Pool);
  });

  it('falls back to the entry point when the file holds something else', () => {
    expect(loadPool(load, 'undici/lib/dispatcher/client.js')).toBe(Pool);
    expect(loadPool(load, 'undici/lib/core/util.js')).toBe(Pool);
  });

  // The point of the file: an adapter's guard, created, never loads undici's entry point (fetch,
  // WebSocket, mocks). Run on the built package, as ESM and as CommonJS, in a fresh process.
  it.each(['esm', 'cjs'])('the built Express adapter (%s) loads the Pool without undici\'s entry point', (kind) => {
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(process.cwd() + '/');
      const m = ${kind === 'esm' ? "await import('genauth-guard/express')" : "req('genauth-guard/express')"};
      const guard = m.createExpressGuard({
        genauth: { host: 'http://127.0.0.1:9', userPoolId: 'pool', accessKeyId: 'id', accessKeySecret: 'secret' },
        jwt: { secret: 'a-secret-of-thirty-two-bytes-or-more!!', issuer: 'iss', audience: 'aud', algorithms: ['HS256'] },
      });
      const files = Object.keys(req.cache).map((file) => file.split('node_modules/').pop());
      console.log(JSON.stringify({ entry: files.includes('undici/index.js'), pool: files.includes('undici/lib/dispatcher/pool.js') }));
      await guard.close();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toEqual({ entry: false, pool: true });
  });
});
