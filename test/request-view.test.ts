import { describe, expect, it } from 'vitest';
import { NodeRequestView, type NodeMessage } from '../src/request.js';
import type { RequestLike } from '../src/request.js';
import { bearerToken, plainBearerToken, readAuthorization } from '../src/token/bearer.js';

const extractBearerToken = (request: RequestLike, realm: string) => bearerToken(readAuthorization(request), realm);

/** A message that records which of its properties were read. */
function recording(message: NodeMessage): { message: NodeMessage; reads: string[] } {
  const reads: string[] = [];
  const proxy = new Proxy(message, {
    get(target, key, receiver) {
      reads.push(String(key));
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { message: proxy, reads };
}

describe('NodeRequestView', () => {
  it('gives the full URL (originalUrl under Express), method, headers and peer address', () => {
    const view = new NodeRequestView({
      method: 'POST',
      url: '/start',
      originalUrl: '/api/v1/servers/7/start',
      headers: { authorization: 'Bearer abc' },
      rawHeaders: ['Authorization', 'Bearer abc'],
      socket: { remoteAddress: '10.0.0.9' },
    });
    expect([view.method, view.url, view.headers.authorization, view.rawHeaders, view.remoteAddress]).toEqual([
      'POST',
      '/api/v1/servers/7/start',
      'Bearer abc',
      ['Authorization', 'Bearer abc'],
      '10.0.0.9',
    ]);
  });

  it('falls back to url, GET and no address on a bare message', () => {
    const view = new NodeRequestView({ url: '/x', headers: {}, socket: null });
    expect([view.method, view.url, view.remoteAddress, view.rawHeaders]).toEqual(['GET', '/x', undefined, undefined]);
    expect(new NodeRequestView({ headers: {} }).url).toBe('');
  });

  it('reads only rawHeaders to extract the token (Express gives each request its own hidden class: every read costs)', () => {
    const { message, reads } = recording({
      method: 'GET',
      url: '/x',
      headers: { authorization: 'Bearer abc.def.ghi' },
      rawHeaders: ['Authorization', 'Bearer abc.def.ghi'],
      socket: { remoteAddress: '127.0.0.1' },
    });
    expect(extractBearerToken(new NodeRequestView(message), 'api')).toBe('abc.def.ghi');
    expect(reads).toEqual(['rawHeaders']);
  });

  it('still rejects a repeated Authorization header that Node folds into one', () => {
    const view = new NodeRequestView({
      headers: { authorization: 'Bearer a' },
      rawHeaders: ['Authorization', 'Bearer a', 'authorization', 'Bearer b'],
    });
    expect(() => extractBearerToken(view, 'api')).toThrow(/More than one Authorization header/);
  });

  it('without rawHeaders (a RequestLike of its own), the token comes from headers', () => {
    expect(extractBearerToken({ method: 'GET', url: '/', headers: { authorization: 'Bearer abc' } }, 'api')).toBe('abc');
  });

  it('a repeat is found whatever the first value is, an empty one included', () => {
    const view = new NodeRequestView({ headers: { authorization: '' }, rawHeaders: ['authorization', '', 'AUTHORIZATION', 'Bearer b'] });
    expect(() => extractBearerToken(view, 'api')).toThrow(/More than one Authorization header/);
  });

  it('plainBearerToken takes only the plain form, and never a repeated header', () => {
    const of = (...raw: string[]) => plainBearerToken(readAuthorization(new NodeRequestView({ headers: {}, rawHeaders: raw })));
    expect(of('Authorization', 'Bearer abc.def')).toBe('abc.def');
    expect(of('Host', 'x', 'authorization', 'Bearer a b')).toBe('a b'); // unchecked: only looked up, never trusted
    expect(of('Authorization', 'bearer abc')).toBeUndefined();
    expect(of('Authorization', 'Bearer ')).toBeUndefined();
    expect(of('Authorization', 'Basic abc')).toBeUndefined();
    expect(of('Host', 'x')).toBeUndefined();
    expect(of('Authorization', 'Bearer a', 'Authorization', 'Bearer a')).toBeUndefined();
  });
});
