// The configurations under test: `// @bench {json}` lines in bench/servers/*.mjs, in report order,
// filtered by BENCH_ONLY / BENCH_SKIP-style lists (a row's baseline is always kept).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'servers');
const ORDER = ['a', 'noop', 'attach', 'b', 'jose', 'c100', 'c10k', 'd', 'e', 'f100', 'f100-redis', 'f100-sub', 'f100-cb', 'f100-otel', 'f10k', 'g', 'h', 'i', 'i-1k', 'i-grants', 'koa', 'koa-f100', 'koa-f10k', 'fastify', 'fastify-f100', 'fastify-f10k'];

export function discover({ only = [], skip = [] } = {}) {
  const all = [];
  for (const f of readdirSync(SERVERS).filter((f) => f.endsWith('.mjs')).sort()) {
    const text = readFileSync(join(SERVERS, f), 'utf8');
    for (const m of text.matchAll(/^\/\/ @bench (\{.*\})\s*$/gm)) all.push({ checks: [], env: {}, token: 'fixed', ...JSON.parse(m[1]), file: join(SERVERS, f) });
  }
  all.sort((x, y) => (ORDER.indexOf(x.id) + 1 || 99) - (ORDER.indexOf(y.id) + 1 || 99));
  const wanted = all.filter((c) => (!only.length || only.includes(c.id)) && !skip.includes(c.id));
  const baselines = new Set(wanted.map((c) => c.baseline));
  return all.filter((c) => wanted.includes(c) || baselines.has(c.id));
}

/** Comma-separated list from the environment. */
export const list = (name) => (process.env[name] || '').split(',').map((s) => s.trim()).filter(Boolean);
