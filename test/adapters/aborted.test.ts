// A client that leaves while the guard waits (for its grants from GenAuth, or for the keys to verify its
// token) must not get its handler run: the request is gone, a mutation would run for nobody. Nothing is
// written for it, nothing is logged as an error. Normal requests, keep-alive and pipelined, still run.
//
// How the tests know the aborted request's decision has settled without timing it: a control request
// of the same user, sent after the abort, waits on the same single-flight load (or the same key fetch),
// so its continuation runs after the aborted one's; when its answer arrives, the aborted request's fate
// is sealed.
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bearerFor, RESOURCES, seedStandardTenant, useEmulator } from '../fixtures.js';
import { ABORT_ROWS, H2_ROWS, type AbortApp, type AbortFixture } from './aborted-apps.js';

// EdDSA keys published too: some cases mint EdDSA tokens (verified by jose, so each decision waits on a promise).
const emulator = useEmulator({ jwksAlgorithms: ['RS256', 'EdDSA'] });
const KEYS = '/oidc/.well-known/jwks.json';
/** Long enough for the server to see the client leave before the decision. */
const LATENCY_MS = 300;

/** One HTTP/1.1 request as bytes; the last request on a connection asks to close it. */
function httpRequest(method: string, target: string, authorization: string, close = true): string {
  const connection = close ? 'connection: close\r\n' : '';
  return `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${authorization}\r\ncontent-length: 0\r\n${connection}\r\n`;
}

/** Opens a connection and writes `bytes`; `answer` is everything the server sent until it closed. */
function connect(port: number, bytes: string): { socket: net.Socket; answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
  return { socket, answer };
}

/** The status codes of every response in `answer`, in order. */
function statuses(answer: string): number[] {
  return [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

describe.each(ABORT_ROWS)('$name: a request aborted before the decision', (row) => {
  let app: AbortApp | undefined;
  let handled: number;
  let logged: unknown[];
  let writes: Array<{ target: string; dead: boolean }>;
  let written: WeakSet<object>;
  let consoleErrors: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    seedStandardTenant(emulator());
    // API mode: GET /api/v1/servers is alice's ('read' is GET's action).
    emulator().addGrants('alice', [{ resourceCode: 'servers', resourceType: 'API', actions: ['read'], apiIdentifier: '/api/v1/servers' }]);
    handled = 0;
    logged = [];
    writes = [];
    written = new WeakSet();
    consoleErrors = vi.spyOn(console, 'error');
  });
  afterEach(async () => {
    consoleErrors.mockRestore();
    await app?.close();
    app = undefined;
  });

  async function start(options: Partial<Pick<AbortFixture, 'passErrors' | 'api'>> = {}): Promise<AbortApp> {
    const guardOptions = emulator().guardOptions();
    app = await row.start({
      // EdDSA too: a new EdDSA token always waits on jose's verification (a promise), where a new
      // RS256 token is verified synchronously once its key is known (docs/token-verification.md).
      options: { ...guardOptions, jwt: { ...guardOptions.jwt, algorithms: ['RS256', 'EdDSA'] } },
      passErrors: options.passErrors ?? false,
      api: options.api ?? false,
      handled: () => void handled++,
      logged: (what) => void logged.push(what),
    });
    // Every response the app writes to, and whether its connection was closed by then (registered after
    // the framework's own listener, so it wraps the response before any asynchronous decision writes).
    app.server.on('request', (req, res) => {
      for (const name of ['writeHead', 'write', 'end'] as const) {
        const original = res[name] as (...args: unknown[]) => unknown;
        (res as unknown as Record<string, unknown>)[name] = function (this: typeof res, ...args: unknown[]) {
          if (!written.has(res)) {
            written.add(res);
            const dead = (res.socket ?? req.socket)?.destroyed === true;
            writes.push({ target: `${req.method} ${req.url}`, dead });
          }
          return original.apply(this, args);
        };
      }
    });
    return app;
  }

  /**
   * Sends `aborted` (one or more pipelined requests) on one connection, waits until the guard is
   * waiting on `waitingOn` at the emulator, hangs up, then sends `control` on a new connection and
   * returns its statuses.
   */
  async function abortThenControl(port: number, aborted: string, waitingOn: string, control: string): Promise<number[]> {
    emulator().fault({ kind: 'latency', ms: LATENCY_MS, path: waitingOn });
    const gone = connect(port, aborted);
    await vi.waitFor(() => expect(emulator().callCount(waitingOn)).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });
    gone.socket.destroy();
    await gone.answer;
    return statuses(await connect(port, control).answer);
  }

  /**
   * Nothing logged, and only `live` responses written (the control requests'). Nest's exception layer
   * insists on answering a guard that refused: there, answers to closed connections are tolerated.
   */
  function expectQuiet(live: number): void {
    expect(logged).toEqual([]);
    expect(consoleErrors).not.toHaveBeenCalled();
    expect(writes.filter((write) => !write.dead)).toHaveLength(live);
    if (!row.answersClosedConnections) expect(writes.filter((write) => write.dead)).toEqual([]);
  }

  it('requirePermission: the handler does not run when the client leaves while the grants load', async () => {
    const { port } = await start();
    const authorization = await bearerFor(emulator(), 'alice');
    const control = await abortThenControl(
      port,
      httpRequest('POST', '/api/v1/servers/1/start', authorization),
      RESOURCES,
      httpRequest('POST', '/api/v1/servers/1/start', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('requirePermission as a hook (Fastify preHandler): the handler does not run either', async () => {
    const { port } = await start();
    const authorization = await bearerFor(emulator(), 'alice');
    const control = await abortThenControl(
      port,
      httpRequest('POST', '/api/v1/servers/1/stop', authorization),
      RESOURCES,
      httpRequest('POST', '/api/v1/servers/1/stop', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('a refusal for a client that left is neither written nor handed to the error handler (passErrors)', async () => {
    const { port } = await start({ passErrors: true });
    const authorization = await bearerFor(emulator(), 'alice');
    const control = await abortThenControl(
      port,
      httpRequest('POST', '/api/v1/servers/2/start', authorization), // alice may not start server 2
      RESOURCES,
      httpRequest('POST', '/api/v1/servers/1/start', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('API mode: the handler does not run when the client leaves while the grants load', async () => {
    const { port } = await start({ api: true });
    const authorization = await bearerFor(emulator(), 'alice');
    const control = await abortThenControl(
      port,
      httpRequest('GET', '/api/v1/servers', authorization),
      RESOURCES,
      httpRequest('GET', '/api/v1/servers', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('authenticate: the handler does not run when the client leaves while the keys load', async () => {
    const { port } = await start();
    const authorization = await bearerFor(emulator(), 'alice');
    // Each request verifies the token itself once the keys arrive (a signature check off the main
    // thread), so the control request also loads grants, slowly: it settles well after the aborted one.
    emulator().fault({ kind: 'latency', ms: 100, path: RESOURCES });
    const control = await abortThenControl(
      port,
      httpRequest('GET', '/api/v1/me', authorization),
      KEYS,
      httpRequest('POST', '/api/v1/servers/1/start', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('pipelined requests of a client that left: neither handler runs', async () => {
    const { port } = await start();
    const authorization = await bearerFor(emulator(), 'alice');
    const control = await abortThenControl(
      port,
      httpRequest('POST', '/api/v1/servers/1/start', authorization, false) + httpRequest('POST', '/api/v1/servers/1/stop', authorization),
      RESOURCES,
      httpRequest('POST', '/api/v1/servers/1/start', authorization),
    );
    expect(control).toEqual([200]);
    expect(handled).toBe(1);
    expectQuiet(1);
  });

  it('a client that stays gets its handler run: alone, then kept alive, then pipelined behind a waiting request', async () => {
    const { port } = await start();
    emulator().fault({ kind: 'latency', ms: 50, path: RESOURCES });
    const first = await bearerFor(emulator(), 'alice');
    expect(statuses(await connect(port, httpRequest('POST', '/api/v1/servers/1/start', first)).answer)).toEqual([200]);
    expect(handled).toBe(1);

    // New EdDSA tokens, so each decision waits on a promise (the token's verification by jose) and
    // passes the disconnect check: on a kept-alive connection, then queued behind carol's request, which
    // waits for her grants (its response has no socket yet when alice's decision settles).
    emulator().setGrants('carol', [{ resourceCode: 'ecs:1', actions: ['ecs:Stop'] }]);
    const carol = await bearerFor(emulator(), 'carol');
    const second = await bearerFor(emulator(), 'alice', { alg: 'EdDSA', claims: { n: 2 } });
    const third = await bearerFor(emulator(), 'alice', { alg: 'EdDSA', claims: { n: 3 } });
    const kept = connect(port, httpRequest('POST', '/api/v1/servers/1/start', second, false));
    await vi.waitFor(() => expect(handled).toBe(2), { timeout: 5_000, interval: 5 });
    emulator().fault({ kind: 'latency', ms: 200, path: RESOURCES });
    kept.socket.write(httpRequest('POST', '/api/v1/servers/1/stop', carol, false) + httpRequest('POST', '/api/v1/servers/1/start', third));
    expect(statuses(await kept.answer)).toEqual([200, 200, 200]);
    expect(handled).toBe(4);
    expectQuiet(4);
  });
});

describe.each(H2_ROWS)('$name over HTTP/2: a stream cancelled before the decision', (row) => {
  it('does not run its handler; another stream of the same connection does', async () => {
    seedStandardTenant(emulator());
    let handled = 0;
    const logged: unknown[] = [];
    const app = await row.start({ options: emulator().guardOptions(), handled: () => void handled++, logged: (what) => void logged.push(what) });
    const session = http2.connect(`http://127.0.0.1:${app.port}`);
    try {
      const authorization = await bearerFor(emulator(), 'alice');
      const headers = { ':method': 'POST', ':path': '/api/v1/servers/1/start', authorization };
      emulator().fault({ kind: 'latency', ms: LATENCY_MS, path: RESOURCES });
      const cancelled = session.request(headers);
      cancelled.on('error', () => {}); // the cancellation itself
      cancelled.end();
      await vi.waitFor(() => expect(emulator().callCount(RESOURCES)).toBeGreaterThan(0), { timeout: 5_000, interval: 5 });
      cancelled.close(http2.constants.NGHTTP2_CANCEL);
      // The control stream waits on the same single-flight load, so it settles after the cancelled one.
      const control = session.request(headers);
      control.end();
      const status = await new Promise<unknown>((resolve, reject) => {
        control.on('response', (answer) => resolve(answer[':status']));
        control.on('error', reject);
      });
      control.resume();
      await new Promise((resolve) => control.on('close', resolve));
      expect(status).toBe(200);
      expect(handled).toBe(1);
      expect(logged).toEqual([]);
    } finally {
      session.close();
      await app.close();
    }
  });
});
