import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { useEmulator } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';

const emu = useEmulator();
const agent = new Agent({ connections: 1 }); // one connection, so a broken one fails the next request
afterAll(() => agent.close());

/** Sends `text` over a fresh socket; resolves with everything answered until the server closes. */
function rawExchange(text: string): Promise<string> {
  const { port } = new URL(emu().url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the emulator answers what it cannot serve with a 4xx and stays usable', () => {
  // GenAuth's statusCode classes have 413 "payload too large"; before, a body past the 1 MiB limit was
  // answered 400 "invalid JSON body" on a keep-alive connection the emulator then reset, so the client's
  // next request on it failed with ECONNRESET.
  it('a body past the limit: HTTP 413, and the next request on the same connection is served', async () => {
    const res = await request(`${emu().url}${TOKEN}`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `"${'x'.repeat(2 << 20)}"`,
    });
    const body = (await res.body.json()) as { statusCode: number };
    expect(res.statusCode).toBe(413);
    expect(body.statusCode).toBe(413);
    const next = await request(`${emu().url}/oidc/.well-known/jwks.json`, { dispatcher: agent });
    expect(next.statusCode).toBe(200);
    await next.body.dump();
  });

  // Before: a request target that is no URL path threw in the emulator, answered 500 "emulator error".
  it.each(['//', 'http://[', '//host:notaport/x'])('a request target %j is HTTP 400, logged', async (target) => {
    emu().resetCalls();
    const answer = await rawExchange(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"statusCode":400');
    expect(emu().calls.map((call) => call.status)).toEqual([400]);
  });

  it('an unknown route or method is HTTP 404 with the envelope', async () => {
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/api/v3/get-user-authorized-resources'], ['POST', '/oidc/.well-known/jwks.json']] as const) {
      const res = await request(`${emu().url}${path}`, { method, dispatcher: agent });
      expect(res.statusCode).toBe(404);
      expect(((await res.body.json()) as { statusCode: number }).statusCode).toBe(404);
    }
  });
});
