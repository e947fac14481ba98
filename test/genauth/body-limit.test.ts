// An upstream that streams an answer with no content-length: the size cap must hold on the bytes
// received, stop reading and drop the connection, not buffer the whole answer. The emulator always
// declares its length, so this upstream is a raw node:http server that streams chunk by chunk.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGuard, isGuardError } from '../../src/index.js';

let server: Server;
let host: string;
let bytesSent = 0;
let answerClosedEarly: Promise<boolean>;

beforeAll(async () => {
  let closedEarly: (value: boolean) => void = () => {};
  answerClosedEarly = new Promise((resolve) => (closedEarly = resolve));
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v3/get-management-token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 200, apiCode: 0, message: '', data: { access_token: 'mgmt', expires_in: 7200 } }));
      return;
    }
    // Chunked: 1 KiB every 5 ms, 1 MiB in all, unless the client goes away first.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024, 0x20);
    let finished = false;
    const timer = setInterval(() => {
      if (bytesSent >= 1024 * 1024) {
        finished = true;
        clearInterval(timer);
        res.end();
        return;
      }
      bytesSent += chunk.length;
      res.write(chunk);
    }, 5);
    res.on('close', () => {
      clearInterval(timer);
      closedEarly(!finished);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('a streamed answer past maxResponseBytes is a 503 and the connection is dropped early', async () => {
  const guard = createGuard({
    genauth: { host, userPoolId: 'pool', accessKeyId: 'ak', accessKeySecret: 'sk', namespace: 'default', maxResponseBytes: 8192, retries: 0 },
    jwt: { secret: 'x'.repeat(32), algorithms: ['HS256'] },
    logger: false,
  });
  try {
    const error = await guard.check({ userId: 'alice', resource: 'reports', action: 'reports:Read' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGuardError(error) && error.status).toBe(503);
    expect(await answerClosedEarly).toBe(true);
    expect(bytesSent).toBeLessThan(64 * 1024);
  } finally {
    await guard.close();
  }
});
