/**
 * examples/otel/setup.mjs, as docs/otel.md includes it, run with the built package against the
 * emulator: a cold request prints the decision and load spans through the console exporter, and the
 * metrics are exported on close. Skipped without dist/ (npm test builds first).
 */
import { existsSync } from 'node:fs';
import { inspect } from 'node:util';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bearerFor, resetToAliceReading, useEmulator } from '../fixtures.js';

const built = existsSync(new URL('../../dist/otel.js', import.meta.url));
const emulator = useEmulator();

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!built)('examples/otel/setup.mjs', () => {
  it('prints the trace of a cold request and exports the metrics on close', async () => {
    resetToAliceReading(emulator());
    // The console exporters write with console.dir / console.log: keep what they print.
    const printed: string[] = [];
    vi.spyOn(console, 'dir').mockImplementation((value: unknown) => void printed.push(inspect(value, { depth: 6 })));
    vi.spyOn(console, 'log').mockImplementation((value: unknown) => void printed.push(typeof value === 'string' ? value : inspect(value, { depth: 6 })));

    const example = '../../examples/otel/setup.mjs'; // plain JavaScript, as users write it: no types to check
    const { createObservedGuard } = (await import(example)) as {
      createObservedGuard(options: unknown): { guard: { requirePermission(...args: unknown[]): express.RequestHandler }; close(): Promise<void> };
    };
    const { guard, close } = createObservedGuard(emulator().guardOptions());
    const app = express();
    app.get('/reports', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
    expect((await request(app).get('/reports').set('authorization', await bearerFor(emulator(), 'alice'))).status).toBe(200);
    await close();

    const text = printed.join('\n');
    if (process.env.SHOW_OTEL_EXAMPLE === '1') process.stderr.write(`${text}\n`);
    expect(text).toContain("name: 'genauth-guard.load'");
    expect(text).toContain("name: 'genauth-guard.decision'");
    expect(text).toContain("'genauth_guard.decision.outcome': 'allow'");
    expect(text).toContain('genauth_guard.decisions');
    expect(text).toContain('genauth_guard.cache.entries');
    expect(text).not.toContain('alice');
  });
});
