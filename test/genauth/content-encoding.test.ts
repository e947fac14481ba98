// The client sends no Accept-Encoding and never decodes a body: an upstream answer in any coding but
// `identity` (a proxy or CDN compressing anyway) is refused with a 503, even when its bytes happen to
// parse as JSON, rather than read as it comes.
import { gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExpressGuard, type ExpressGuard } from '../../src/adapters/express.js';
import { isIdentityEncoding } from '../../src/genauth/exchange.js';
import { RESOURCES, useEmulator, resetToAliceReading, closeAfterEach } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';
const emulator = useEmulator();
const track = closeAfterEach<ExpressGuard>();

beforeEach(() => {
  const e = emulator();
  resetToAliceReading(e);
});

function app() {
  const guard = createExpressGuard({ ...emulator().guardOptions(), cache: { errorTtl: 0 }, logger: false });
  track(guard);
  const server = express();
  server.get('/r', guard.requirePermission('reports', 'reports:Read'), (_req, res) => void res.send('ok'));
  return server;
}

const get = async (server: express.Express) => request(server).get('/r').set('authorization', `Bearer ${await emulator().mintToken('alice')}`);

/** A well-formed answer granting alice `reports:Read`: only its Content-Encoding is wrong. */
const GRANTED = JSON.stringify({
  statusCode: 200,
  message: '',
  data: { totalCount: 1, list: [{ resourceCode: 'reports', resourceType: 'DATA', actions: ['reports:Read'], effect: 'ALLOW' }] },
});

describe('Content-Encoding of an upstream body', () => {
  it.each(['gzip', 'GZIP', ' gzip ', 'br', 'deflate', 'x-custom', 'identity, gzip', 'gzip, identity', 'identity,gzip'])(
    'a 200 answer in "%s" is a 503, though its body parses as JSON',
    async (coding) => {
      emulator().fault({ kind: 'respond', status: 200, headers: { 'content-encoding': coding }, body: GRANTED, path: RESOURCES });
      const res = await get(app());
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
      expect(emulator().callCount(RESOURCES)).toBe(1); // not retried: the same answer would come again
    },
  );

  it('a really gzipped answer is a 503', async () => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-encoding': 'gzip' }, body: gzipSync(GRANTED), path: RESOURCES });
    expect((await get(app())).status).toBe(503);
  });

  it.each(['identity', 'IDENTITY', ' Identity ', 'identity, identity', ''])('a 200 answer in "%s" is read', async (coding) => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-encoding': coding }, body: GRANTED, path: RESOURCES, times: 1 });
    expect((await get(app())).status).toBe(200);
    expect(emulator().calls.find((call) => call.path === RESOURCES)?.fault).toBe('respond');
  });

  it('a gzipped management token answer is a 503 too', async () => {
    const token = JSON.stringify({ statusCode: 200, message: '', data: { access_token: 'stolen', expires_in: 7200 } });
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-encoding': 'gzip' }, body: token, path: TOKEN });
    expect((await get(app())).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });

  it('a gzipped 5xx is still a 5xx: retried, and the retry answers', async () => {
    emulator().fault({ kind: 'respond', status: 503, headers: { 'content-encoding': 'gzip' }, body: gzipSync('{"statusCode":503}'), path: RESOURCES, times: 1 });
    expect((await get(app())).status).toBe(200);
    expect(emulator().callCount(RESOURCES)).toBe(2);
  });
});

describe('isIdentityEncoding', () => {
  it.each<[string | string[] | undefined, boolean]>([
    [undefined, true],
    ['', true],
    ['identity', true],
    [' IDENTITY ', true],
    ['identity, identity', true],
    [['identity', 'identity'], true],
    ['identity,', true],
    ['gzip', false],
    ['identity, gzip', false],
    [['identity', 'gzip'], false],
    ['identityx', false],
    ['identity;q=1', false],
  ])('%j -> %s', (value, expected) => {
    expect(isIdentityEncoding(value)).toBe(expected);
  });
});

describe('the charset an upstream body declares', () => {
  // JSON is UTF-8 (RFC 8259); a sender naming another charset encoded its text otherwise, so bytes read as
  // UTF-8 may name other codes than it meant (a DENY's code in latin1 read as UTF-8 is another code).
  it.each([
    'application/json; charset=iso-8859-1',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset="GBK"',
    'application/json;charset=windows-1252',
    'application/json; charset=utf-8; charset=latin1',
    'application/json; charset=',
  ])('a 200 answer with "%s" is a 503, though its bytes parse as UTF-8 JSON', async (type) => {
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': type }, body: GRANTED, path: RESOURCES });
    const res = await get(app());
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ERR_PERMISSIONS_UNAVAILABLE');
    expect(emulator().callCount(RESOURCES)).toBe(1);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=utf8', 'text/plain'])(
    'a 200 answer with "%s" is read',
    async (type) => {
      emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': type }, body: GRANTED, path: RESOURCES, times: 1 });
      expect((await get(app())).status).toBe(200);
      expect(emulator().calls.find((call) => call.path === RESOURCES)?.fault).toBe('respond');
    },
  );

  it('a management token answer in another charset is a 503 too', async () => {
    const token = JSON.stringify({ statusCode: 200, message: '', data: { access_token: 'stolen', expires_in: 7200 } });
    emulator().fault({ kind: 'respond', status: 200, headers: { 'content-type': 'application/json; charset=utf-16' }, body: token, path: TOKEN });
    expect((await get(app())).status).toBe(503);
    expect(emulator().callCount(RESOURCES)).toBe(0);
  });
});
