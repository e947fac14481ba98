import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { managementToken, useEmulator } from '../fixtures.js';

const GRANTS = '/api/v3/get-user-authorized-resources';

let auth: Record<string, string>;

const emu = useEmulator();

beforeAll(async () => {
  auth = { authorization: await managementToken(emu()), 'x-authing-userpool-id': emu().userPoolId };
});
afterEach(() => {
  emu().clearFaults();
  emu().clearGrants();
  emu().resetCalls();
});

/** Reads a body chunk by chunk; resolves with what arrived and the error that ended it, if any. */
async function drain(body: AsyncIterable<Buffer>): Promise<{ chunks: Buffer[]; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

describe('slow-body', () => {
  it('sends the headers at once and the real answer in small chunks', async () => {
    emu().setGrants('u1', [{ resourceCode: 'books:1', actions: ['books:read'] }]);
    emu().fault({ kind: 'slow-body', chunkBytes: 32, intervalMs: 20, path: GRANTS, times: 1 });
    const res = await request(`${emu().url}${GRANTS}?userId=u1`, { headers: auth });
    expect(res.statusCode).toBe(200);
    const length = Number(res.headers['content-length']);
    const { chunks, error } = await drain(res.body);
    expect(error).toBeUndefined();
    const text = Buffer.concat(chunks).toString('utf8');
    expect(Buffer.byteLength(text)).toBe(length);
    // A busy machine may hand two 32-byte writes to one read: many small reads, never the whole body.
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(length / 32 / 2));
    expect(chunks.every((chunk) => chunk.length <= 32 * 2)).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ statusCode: 200, data: { totalCount: 1 } });
    expect(emu().calls.at(-1)).toMatchObject({ status: 200, statusCode: 200, fault: 'slow-body' });
  });

  it('a client whose body timeout is shorter than the trickle gets the headers, then a body timeout', async () => {
    emu().setGrants('u1', []);
    // undici's timers are coarse (about half a second), so the gap between chunks is well above both.
    emu().fault({ kind: 'slow-body', chunkBytes: 8, intervalMs: 2000, path: GRANTS, times: 1 });
    const res = await request(`${emu().url}${GRANTS}?userId=u1`, { headers: auth, bodyTimeout: 300 });
    expect(res.statusCode).toBe(200);
    const { chunks, error } = await drain(res.body);
    expect(error).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect(Buffer.concat(chunks).length).toBeLessThan(Number(res.headers['content-length']));
  });
});

describe('drop-mid-body', () => {
  it('sends headers and the first bytes, then destroys the socket; the next request is served', async () => {
    emu().setGrants('u1', [{ resourceCode: 'books:1', actions: ['books:read'] }]);
    emu().fault({ kind: 'drop-mid-body', bytes: 10, path: GRANTS, times: 1 });
    const res = await request(`${emu().url}${GRANTS}?userId=u1`, { headers: auth });
    expect(res.statusCode).toBe(200);
    const length = Number(res.headers['content-length']);
    expect(length).toBeGreaterThan(10);
    const { chunks, error } = await drain(res.body);
    expect(error).toBeInstanceOf(Error);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('{"statusCo');
    expect(emu().calls.at(-1)).toMatchObject({ status: 200, fault: 'drop-mid-body' });

    const again = await request(`${emu().url}${GRANTS}?userId=u1`, { headers: auth });
    expect(((await again.body.json()) as any).statusCode).toBe(200);
  });

  it('cuts at half the body by default', async () => {
    emu().setGrants('u1', []);
    emu().fault({ kind: 'drop-mid-body', path: GRANTS, times: 1 });
    const res = await request(`${emu().url}${GRANTS}?userId=u1`, { headers: auth });
    const length = Number(res.headers['content-length']);
    const { chunks, error } = await drain(res.body);
    expect(error).toBeInstanceOf(Error);
    expect(Buffer.concat(chunks).length).toBe(Math.floor(length / 2));
  });

  it('applies to the JWKS too (faults without path)', async () => {
    emu().fault({ kind: 'drop-mid-body', bytes: 1, times: 1 });
    const res = await request(emu().jwksUri);
    expect(res.statusCode).toBe(200);
    expect((await drain(res.body)).error).toBeInstanceOf(Error);
    expect((await (await request(emu().jwksUri)).body.json()) as any).toHaveProperty('keys');
  });
});
