/**
 * Absolute-form targets with a scheme Node's url.parse reads without a host: `GET javascript://reports/q3.pdf`.
 * Express (parseurl -> url.parse) and every middleware behind it see the path `//reports/q3.pdf`, which
 * express.static serves as `reports/q3.pdf`; the guard must never judge it as `/q3.pdf`.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express5 from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { normalizeApiTarget } from '../../src/policy/api-path.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';
import { rawSend } from './raw-http.js';

let emulator: GenAuthEmulator;
let root = '';
let token = '';

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.setGrants('mallory', [
    { resourceCode: 'site', resourceType: 'API', apiIdentifier: '/*', actions: ['read'], effect: 'ALLOW' },
    { resourceCode: 'reports', resourceType: 'API', apiIdentifier: '/reports/*', actions: ['*'], effect: 'DENY' },
  ]);
  token = await emulator.mintToken('mallory');
  root = mkdtempSync(join(tmpdir(), 'genauth-static-'));
  mkdirSync(join(root, 'reports'));
  writeFileSync(join(root, 'reports', 'q3.pdf'), 'SECRET-Q3');
  writeFileSync(join(root, 'q3.pdf'), 'public-q3');
});

afterAll(async () => {
  await emulator?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s API mode in front of express.static', (_name, express) => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    const guard = createExpressGuard(emulator.guardOptions());
    const app = express();
    app.use(guard.api({}));
    app.use(express.static(root));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (target: string) => rawSend(port, { method: 'GET', target, headers: [['authorization', `Bearer ${token}`]] });

  it('control: /q3.pdf is served, /reports/q3.pdf is denied', async () => {
    expect((await get('/q3.pdf')).body).toBe('public-q3');
    expect((await get('/reports/q3.pdf')).status).toBe(403);
    expect((await get('http://127.0.0.1/reports/q3.pdf')).status).toBe(403);
  });

  it.each(['javascript://reports/q3.pdf', 'JavaScript://reports/q3.pdf'])('%s never serves the denied file', async (target) => {
    const answer = await get(target);
    expect(answer.body).not.toContain('SECRET-Q3');
    expect(answer.status).toBeGreaterThanOrEqual(400);
  });
});

describe('normalizeApiTarget and absolute-form', () => {
  it('refuses a scheme url.parse reads without a host, rather than judging another path', () => {
    expect(normalizeApiTarget('javascript://reports/q3.pdf').ok).toBe(false);
    expect(normalizeApiTarget('http://h/reports/q3.pdf')).toMatchObject({ ok: true, path: '/reports/q3.pdf' });
  });
});
