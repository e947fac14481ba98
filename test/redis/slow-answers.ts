// A loopback HTTP hop in front of the emulator that asks it at once and hands its answer back late:
// GenAuth answered (with the grants it had then), and the answer takes `delay()` ms to arrive. The
// emulator's own latency fault waits before it reads the grants, so a revocation made meanwhile is
// already in its answer; this hop keeps the answer from before the revocation, which is the race an
// invalidation must win.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowAnswers {
  readonly url: string;
  /** Answers taken from the emulator so far whose delivery is still pending. */
  readonly pending: number;
  close(): Promise<void>;
}

/** Headers of one connection, not of the request: fetch sets its own. */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

async function body(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : Buffer.concat(chunks);
}

/** Starts the hop; `delay(path)` is how late each answer is handed back (0 for none). */
export async function startSlowAnswers(target: string, delay: (path: string) => number): Promise<SlowAnswers> {
  let pending = 0;
  const server = createServer(async (req, res) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_HEADERS.has(name))) as Record<string, string>;
    let answer: Response;
    let text: Buffer;
    try {
      answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, body: await body(req) });
      text = Buffer.from(await answer.arrayBuffer());
    } catch {
      res.destroy(); // the emulator is gone (the test is over)
      return;
    }
    const wait = delay(new URL(req.url ?? '/', target).pathname);
    pending++;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending--;
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection') out[name] = value;
    });
    out['content-length'] = String(text.byteLength);
    res.writeHead(answer.status, out);
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get pending() {
      return pending;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
