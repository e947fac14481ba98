/**
 * A key set (or discovery) endpoint on loopback that answers with bodies no issuer should send: a real
 * JSON document padded with whitespace to a size of the test's choosing (declared by content-length,
 * chunked, or gzip-compressed so that a few KiB on the wire decode to megabytes), a body without end,
 * or a content-length of gigabytes followed by nothing. Real node:http; each answer records how it
 * ended, so a test sees that the reader hung up.
 */
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { listeningPort } from '../fixtures.js';

/** How one path answers. */
export type HostileBody =
  /** `json` followed by spaces up to `bytes` in all (JSON allows whitespace after the value). */
  | { kind: 'padded'; json: unknown; bytes: number; framing: 'length' | 'chunked' | 'gzip' }
  /** Chunked whitespace, 64 KiB a millisecond (about 64 MB/s), until the reader hangs up. */
  | { kind: 'endless' }
  /** Headers declaring `bytes` of body, then no byte at all. */
  | { kind: 'declared'; bytes: number };

export interface HostileKeyServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Sets how `path` answers from now on (any other path: 404). */
  serve(path: string, body: HostileBody): void;
  /** Requests received on `path`. */
  calls(path: string): number;
  /** Resolves once every answer started so far has ended (sent whole or cut off by the reader). */
  settled(): Promise<void>;
  /** Body bytes written by the answers that were cut off before their end. */
  readonly cutOff: number;
  close(): Promise<void>;
}

/** `json`'s text followed by spaces, `bytes` long in all. */
export function padded(json: unknown, bytes: number): Buffer {
  const text = Buffer.from(JSON.stringify(json));
  if (text.length > bytes) throw new Error(`the document alone is ${text.length} bytes`);
  return Buffer.concat([text, Buffer.alloc(bytes - text.length, 0x20)]);
}

const CHUNK = Buffer.alloc(64 * 1024, 0x20);

export async function startHostileKeyServer(): Promise<HostileKeyServer> {
  const answers = new Map<string, HostileBody>();
  const seen = new Map<string, number>();
  const open = new Set<Promise<void>>();
  let cutOff = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.set(path, (seen.get(path) ?? 0) + 1);
    req.resume();
    const body = answers.get(path);
    if (body === undefined) return void res.writeHead(404).end();
    let written = 0;
    const ended = new Promise<void>((resolve) =>
      res.once('close', () => {
        if (!res.writableFinished) cutOff += written;
        resolve();
      }),
    );
    open.add(ended);
    void ended.then(() => open.delete(ended));
    const send = (bytes: Buffer, more: () => void) => {
      written += bytes.length;
      if (res.write(bytes)) setImmediate(more);
      else res.once('drain', more);
    };
    switch (body.kind) {
      case 'padded': {
        const bytes = padded(body.json, body.bytes);
        if (body.framing === 'gzip') {
          const zipped = gzipSync(bytes);
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length });
          written = zipped.length;
          res.end(zipped);
          return;
        }
        res.writeHead(200, body.framing === 'length' ? { 'content-type': 'application/json', 'content-length': bytes.length } : { 'content-type': 'application/json' });
        // Sent in pieces, so a reader that stops early is seen to have cut the answer off.
        let offset = 0;
        const next = () => {
          if (res.destroyed) return;
          if (offset >= bytes.length) return void res.end();
          const piece = bytes.subarray(offset, offset + CHUNK.length);
          offset += piece.length;
          send(piece, next);
        };
        next();
        return;
      }
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/json' });
        // Paced, so a reader without a bound fills its memory slowly enough to finish on its timeout.
        const next = () => {
          if (!res.destroyed) send(CHUNK, () => setTimeout(next, 1));
        };
        next();
        return;
      }
      case 'declared':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.bytes });
        res.flushHeaders();
        return;
    }
  });
  const url = `http://127.0.0.1:${await listeningPort(server.listen(0, '127.0.0.1'))}`;
  return {
    url,
    serve: (path, body) => void answers.set(path, body),
    calls: (path) => seen.get(path) ?? 0,
    settled: async () => void (await Promise.all([...open])),
    get cutOff() {
      return cutOff;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
