/**
 * routedTarget: which target API mode judges from the URL the outermost server received, the URL the
 * framework routes and the mount path of the Express router that handed the request on. The HTTP
 * cases (Express and Nest mounted by Connect, Koa and Express sub-apps behind a host rewrite) are in
 * mounts.test.ts and koa.test.ts; this table holds the shapes hosts produce.
 */
import { describe, expect, it } from 'vitest';
import { routedTarget } from '../../src/adapters/routed-target.js';

describe('routedTarget', () => {
  it.each([
    // [received, routed, base, judged]
    // No mount, no rewrite.
    ['/api/admin/keys', '/api/admin/keys', '', '/api/admin/keys'],
    ['/x', '/x', undefined, '/x'],
    [undefined, '/x', undefined, '/x'],
    [undefined, '/x', '/api', '/api/x'],
    // A host that keeps no baseUrl (Connect) mounted the app under /api: the URL received.
    ['/api/admin/keys', '/admin/keys', '', '/api/admin/keys'],
    ['/API/admin/keys?x=1', '/admin/keys?x=1', '', '/API/admin/keys?x=1'],
    ['/api', '/', '', '/api'],
    ['/api/', '/', '', '/api/'],
    ['/api?x=1', '/?x=1', '', '/api?x=1'],
    ['/api.json', '/.json', '', '/api.json'],
    ['/a/b/c', '/c', '', '/a/b/c'],
    ['http://h/api/admin/keys', 'http://h/admin/keys', '', 'http://h/api/admin/keys'],
    ['http://h/api', 'http://h', '', 'http://h/api'],
    // An Express router mounted it (baseUrl): the URL received where it is baseUrl + url.
    ['/api/admin/keys', '/admin/keys', '/api', '/api/admin/keys'],
    ['/api', '/', '/api', '/api'],
    ['/api/', '/', '/api', '/api/'],
    ['/api?x', '/?x', '/api', '/api?x'],
    ['http://h/api/admin/keys', 'http://h/admin/keys', '/api', 'http://h/api/admin/keys'],
    ['http://h/api', 'http://h', '/api', 'http://h/api'],
    // ... under a host that keeps no baseUrl (Connect at /outer, Express at /api inside it).
    ['/outer/api/admin/keys', '/admin/keys', '/api', '/outer/api/admin/keys'],
    ['/outer/api', '/', '/api', '/outer/api'],
    // A rewrite in front: the path that runs, under the mount path where there is one.
    ['/legacy/admin/x', '/api/v1/admin/x', '', '/api/v1/admin/x'],
    ['/admin/keys', '/api/admin/keys', '', '/api/admin/keys'],
    ['/k', '/admin/keys', '/api', '/api/admin/keys'],
    ['/pub/admin/keys', '/admin/keys', '/api', '/api/admin/keys'],
    ['/k', '/', '/api', '/api/'],
    ['/k', '/?x', '/api', '/api/?x'],
    ['http://h/k', 'http://h/admin/keys', '/api', 'http://h/api/admin/keys'],
    // Not a mount path in front: a rewrite.
    ['/apix', '/x', '', '/x'],
    ['/a?b/c', '/c', '', '/c'],
    ['/api/x', '/api/x/', '', '/api/x/'],
    // A rewrite that only strips a prefix looks like a mount: judged as received (documented).
    ['/v1/admin/keys', '/admin/keys', '', '/v1/admin/keys'],
  ])('received %j, routed %j, base %j: judges %j', (received, routed, base, judged) => {
    expect(routedTarget(received, routed, base)).toBe(judged);
  });
});
