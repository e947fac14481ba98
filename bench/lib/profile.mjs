// Profiles of the measured rounds only (BENCH_PROFILE). A server started with BENCH_PROFILE_OUT set
// starts V8's sampling profiler on SIGUSR2 and stops it on the next SIGUSR2, writing one .cpuprofile
// per window; the runner signals around each measured load, so warm-up and start-up stay out and the
// self time can be divided by the requests served in the windows.
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';

/** Server side: install the SIGUSR2 toggle when the runner asked for a profile. */
export function profileOnSignal() {
  const out = process.env.BENCH_PROFILE_OUT;
  if (!out) return;
  const session = new Session();
  session.connect();
  let running = false;
  let window = 0;
  let busy = Promise.resolve();
  process.on('SIGUSR2', () => {
    busy = busy.then(async () => {
      if (!running) {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        running = true;
      } else {
        const { profile } = await session.post('Profiler.stop');
        running = false;
        writeFileSync(`${out}-${++window}.cpuprofile`, JSON.stringify(profile));
      }
      process.stdout.write(`PROFILE ${running ? 'started' : 'written'}\n`);
    });
  });
}

const shorten = (url) => url
  .replace(/^.*node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*$/, '$1')
  .replace(/^.*\/dist\/.*$/, 'genauth-guard (dist)')
  .replace(/^.*\/bench\/.*$/, 'bench server');

/**
 * Runner side: self time per request, by package/module and by function, summed over the window
 * profiles. Idle samples are left out; GC and "(program)" are kept (they are the server's work).
 */
export function summarizeProfiles(files, requests, top = 25) {
  const byModule = new Map();
  const byFunction = new Map();
  let busy = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8'));
    const nodes = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    for (let i = 0; i < p.samples.length; i++) {
      const frame = nodes.get(p.samples[i]);
      const us = p.timeDeltas[i] ?? 0;
      if (frame.functionName === '(idle)') continue;
      busy += us;
      const module = frame.url ? shorten(frame.url) : frame.functionName;
      byModule.set(module, (byModule.get(module) ?? 0) + us);
      const fn = `${frame.functionName || '(anonymous)'} ${module}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    }
  }
  const rows = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, us]) => `| ${k} | ${(us / requests).toFixed(1)} | ${((100 * us) / busy).toFixed(1)} |`);
  return [
    `busy ${(busy / requests).toFixed(1)} µs per request over ${requests.toLocaleString('en-US')} requests`,
    '',
    '| module | self µs/req | % |', '|---|---:|---:|', ...rows(byModule, 15),
    '',
    '| function | self µs/req | % |', '|---|---:|---:|', ...rows(byFunction, top),
  ].join('\n');
}
