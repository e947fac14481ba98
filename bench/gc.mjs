// `npm run bench:gc`: garbage collection per request of each server, from V8's --trace-gc. Unlike
// req/s, what a server allocates and how often V8 collects it depends on the requests it serves, not
// on what else the machine is doing, so it is a before/after measure on a shared VM (docs/bench.md).
// Each server runs natively with --trace-gc; after a warm-up, N requests are sent (autocannon, 32
// connections) and the GCs logged during them are counted: scavenges, mark-compacts (the expensive
// ones: Express gives each request a hidden class of its own, and maps live in old space), and the
// bytes allocated between collections (each GC's heap before it, minus the heap after the previous one).
//
// Knobs: BENCH_ONLY / BENCH_SKIP (ids; default: every row but c100, c10k), BENCH_GREQUESTS (100000
// measured requests), BENCH_GWARMUP (20000).
import autocannon from 'autocannon';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, TARGET_PATH } from './lib/common.mjs';
import { discover, list } from './lib/configs.mjs';
import { startProcess } from './lib/processes.mjs';
import { tokenSource } from './lib/tokens.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_GREQUESTS || 100_000);
const WARMUP = Number(process.env.BENCH_GWARMUP || 20_000);
const log = (s) => process.stderr.write(`${s}\n`);
const only = list('BENCH_ONLY');
const configs = discover({ only, skip: only.length ? list('BENCH_SKIP') : ['c100', 'c10k', ...list('BENCH_SKIP')] });

function load(port, next, amount) {
  return new Promise((resolvePromise, reject) => {
    const instance = autocannon({
      url: `http://${HOST}:${port}${TARGET_PATH}`, connections: 32, amount,
      requests: [{ setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${next()}` } }) }],
    }, (error, result) => (error ? reject(error) : resolvePromise(result)));
    instance.on('error', reject);
  });
}

// "[pid:0x..]   123 ms: Scavenge 5.2 (6.1) -> 4.3 (7.1) MB, ..." (also "Mark-Compact", "Mark-Compact (reduce)")
const GC_LINE = /: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

async function measure(config, upstreamUrl) {
  const server = await startProcess(process.execPath, ['--trace-gc', config.file], { GENAUTH_HOST: upstreamUrl, ...config.env }, config.id);
  let text = '';
  server.stdout.on('data', (d) => { text += d; });
  const next = tokenSource(config);
  await load(server.port, next, WARMUP);
  const from = text.length;
  const result = await load(server.port, next, N);
  await new Promise((r) => setTimeout(r, 200));
  server.kill('SIGKILL');
  let scavenges = 0, markCompacts = 0, allocatedMb = 0, liveMb = 0, previousAfter;
  for (const line of text.slice(from).split('\n')) {
    const m = GC_LINE.exec(line);
    if (!m) continue;
    if (m[1] === 'Scavenge' || m[1] === 'Minor Mark-Compact') scavenges++;
    else {
      markCompacts++;
      liveMb += Number(m[3]);
    }
    if (previousAfter !== undefined) allocatedMb += Math.max(0, Number(m[2]) - previousAfter);
    previousAfter = Number(m[3]);
  }
  return { scavenges, markCompacts, liveMb: markCompacts === 0 ? NaN : liveMb / markCompacts, bytesPerRequest: (allocatedMb * 1024 * 1024) / N, non2xx: result.non2xx + result.errors };
}

const upstream = await startProcess(process.execPath, [join(HERE, 'upstream.mjs')], {}, 'upstream');
const upstreamUrl = `http://${HOST}:${upstream.port}`;
const rows = [
  `## Garbage collection per request (--trace-gc; ${N.toLocaleString('en-US')} requests after ${WARMUP.toLocaleString('en-US')} of warm-up, 32 connections)`,
  '',
  '| id | configuration | scavenges | mark-compacts | per 100k requests | heap after a mark-compact (MB) | allocated B/request | non-2xx |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
];
for (const c of configs) {
  try {
    const r = await measure(c, upstreamUrl);
    log(`${c.id.padEnd(13)} ${r.scavenges} scavenges, ${r.markCompacts} mark-compacts (heap after: ${r.liveMb.toFixed(1)} MB), ${Math.round(r.bytesPerRequest)} B/request`);
    rows.push(`| ${c.id} | ${c.label} | ${r.scavenges} | ${r.markCompacts} | ${((r.markCompacts * 100_000) / N).toFixed(1)} | ${r.liveMb.toFixed(1)} | ${Math.round(r.bytesPerRequest).toLocaleString('en-US')} | ${r.non2xx} |`);
  } catch (error) {
    log(`${c.id} FAILED: ${error.message.slice(0, 300)}`);
    rows.push(`| ${c.id} | ${c.label} | failed | | | | | |`);
    process.exitCode = 1;
  }
}
upstream.kill();
process.stdout.write(`${rows.join('\n')}\n`);
