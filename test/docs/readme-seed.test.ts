// README's "Without a GenAuth tenant yet": the seed file it gives is one the CLI's emulator takes (the
// checks `genauth-guard emulator --seed` runs, and docs/seed.schema.json), and against the tenant it
// makes, the quick start's route answers what README says: alice 200, bob 403, no token 401.
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { fencedBlocks, read } from './markdown.js';
import { schemaErrors } from '../cli/schema-check.js';
import { applySeed, checkSeed } from '../../src/cli/seed.js';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { startEmulator, type GenAuthEmulator } from '../../src/testing/index.js';

const root = new URL('../..', import.meta.url).pathname;
const HEADING = 'Without a GenAuth tenant yet';
const blocks = fencedBlocks('README.md', read(root, 'README.md')).filter((b) => b.heading === HEADING && b.lang === 'json');

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe(`README: ${HEADING}`, () => {
  it('has one seed block, which the CLI and the schema take', () => {
    expect(blocks).toHaveLength(1);
    const seed = JSON.parse(blocks[0]!.content) as unknown;
    expect(() => checkSeed(seed)).not.toThrow();
    expect(schemaErrors(JSON.parse(read(root, 'docs/seed.schema.json')) as Record<string, unknown>, seed)).toEqual([]);
  });

  it('seeded from it, the quick start route answers 200 / 401 / 403', async () => {
    const emulator: GenAuthEmulator = await startEmulator();
    closers.push(() => emulator.close());
    applySeed(emulator, checkSeed(JSON.parse(blocks[0]!.content)));
    const guard: ExpressGuard = createExpressGuard(emulator.guardOptions());
    closers.push(() => guard.close());
    const app = express();
    app.post('/api/v1/servers/:id/start', guard.requirePermission((req) => `ecs:${req.params.id}`, 'ecs:Start'), (req, res) => {
      res.json({ started: req.params.id, by: req.genauth!.identity.userId });
    });
    const call = () => request(app).post('/api/v1/servers/1/start');
    await call().set('authorization', `Bearer ${await emulator.mintToken('alice')}`).expect(200, { started: '1', by: 'alice' });
    await call().set('authorization', `Bearer ${await emulator.mintToken('bob')}`).expect(403);
    await call().expect(401);
  });
});
