// Webhook deliveries that have no one reading, and deliveries from another user pool, over real HTTP on
// Express, Koa and Fastify (the route reading the raw body itself), correctly authenticated (the
// secret in x-authing-webhook-secret): a body naming a key twice, or not UTF-8 (raw or percent-encoded
// in a form), is a 400 problem+json and nothing is flushed or revoked; a delivery naming another user
// pool than genauth.userPoolId is a 204 that does nothing, with one warning and `ignored` on the channel.
import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../src/index.js';
import { bearerFor, useEmulator } from '../fixtures.js';
import { jsonHeaders, post, useWebhookApps } from './http.js';

const SECRET = 'whsec-strict-0123456789';
const emulator = useEmulator();
/** Each adapter's app: the webhook route at /hooks/genauth (no body parser before it), GET /reports guarded. */
const { apps, warnings } = useWebhookApps(emulator, { secret: SECRET, requirement: { anyOf: ['reports:Read', 'reports:Admin'] } });

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const enc = encodeURIComponent;

/** Bodies that would revoke or flush if read the lossy / last-wins way. */
const unreadable: Array<[string, string | Buffer, string]> = [
  ['JSON naming userId twice', '{"eventName":"user:blocked","data":{"user":{"userId":"alice","userId":"bob"}}}', JSON_TYPE],
  ['JSON naming eventName twice', '{"eventName":"login","data":{"user":{"userId":"alice"}},"eventName":"user:blocked"}', JSON_TYPE],
  ['JSON naming a key twice, once escaped', '{"eventName":"user:blocked","data":{"user":{"userId":"alice","user\\u0049d":"bob"}}}', JSON_TYPE],
  ['JSON whose data is a JSON text naming a key twice', JSON.stringify({ eventName: 'user:blocked', data: '{"user":{"userId":"alice","userId":"bob"}}' }), JSON_TYPE],
  ['JSON with bytes that are not UTF-8', Buffer.concat([Buffer.from('{"eventName":"user:blocked","data":{"user":{"userId":"alice","name":"'), Buffer.from([0xff]), Buffer.from('"}}}')]), JSON_TYPE],
  ['a form whose data names userId twice', `eventName=user%3Ablocked&data=${enc('{"user":{"userId":"alice","userId":"bob"}}')}`, FORM],
  ['a form whose data is percent-encoded bytes that are not UTF-8', `eventName=user%3Ablocked&data=${enc('{"user":{"userId":"alice","name":"')}%FF${enc('"}}')}`, FORM],
  ['a form whose eventName is percent-encoded bytes that are not UTF-8', `eventName=role%3Aupdated%C3&data=${enc('{}')}`, FORM],
  ['a form with a malformed percent escape', `eventName=role%3Aupdated&data=${enc('{"note":"100')}%zz${enc('"}')}`, FORM],
  ['a form naming eventName twice, once percent-encoded', `eventName=login&event%4Eame=user%3Ablocked&data=${enc('{"user":{"userId":"alice"}}')}`, FORM],
  ['a form naming data twice', `eventName=user%3Ablocked&data=${enc('{"user":{"userId":"carol"}}')}&data=${enc('{"user":{"userId":"alice"}}')}`, FORM],
  ['a form with raw bytes that are not UTF-8', Buffer.concat([Buffer.from(`eventName=user%3Ablocked&data=${enc('{"user":{"userId":"alice","name":"')}`), Buffer.from([0xff]), Buffer.from(enc('"}}'))]), FORM],
];

describe.each(apps)('%s webhook route', (_name, start) => {
  let port: number;
  beforeEach(async () => {
    port = (await start()).port;
  });
  const reports = async (authorization: string) => (await post(port, '/reports', { method: 'GET', headers: { authorization } })).status;
  const deliver = (body: string | Buffer, type: string, extra: Record<string, string> = {}) =>
    post(port, '/hooks/genauth', { headers: jsonHeaders(SECRET, { 'content-type': type, ...extra }), body });

  it.each(unreadable)('answers 400 problem+json to %s, flushing and revoking nothing', async (_case, body, type) => {
    const alice = await bearerFor(emulator(), 'alice');
    const bob = await bearerFor(emulator(), 'bob');
    expect(await reports(alice)).toBe(200);
    expect(await reports(bob)).toBe(200);
    // Flushed grants would now read as a 403, a revoked token as a 401.
    emulator().setGrants('alice', []);
    emulator().setGrants('bob', []);
    const answer = await deliver(body, type);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toEqual({ type: 'about:blank', title: 'Bad Request', status: 400 });
    expect(await reports(alice)).toBe(200);
    expect(await reports(bob)).toBe(200);
  });

  it('still reads a form whose fields are well-formed UTF-8 (percent-encoded, or + for a space)', async () => {
    const alice = await bearerFor(emulator(), 'alice');
    expect(await reports(alice)).toBe(200);
    const data = enc(JSON.stringify({ user: { userId: 'alice', name: 'Ålice Ünïcode 😀' } })).replaceAll('%20', '+');
    expect((await deliver(`eventName=user%3Ablocked&data=${data}`, FORM)).status).toBe(204);
    expect(await reports(alice)).toBe(401);
  });

  describe('a delivery naming another user pool', () => {
    const events: WebhookEvent[] = [];
    const listener = (message: unknown) => void events.push(message as WebhookEvent);
    beforeEach(() => {
      events.length = 0;
      diagnostics.subscribe('genauth-guard:webhook', listener);
    });
    afterEach(() => {
      diagnostics.unsubscribe('genauth-guard:webhook', listener);
    });

    it.each([
      ['in x-authing-userpool-id', { 'x-authing-userpool-id': 'another-pool' }, {}],
      ['in x-genauth-userpool-id', { 'x-genauth-userpool-id': 'another-pool' }, {}],
      ['in data.userPoolId', {}, { userPoolId: 'another-pool' }],
      ['in both headers and data.userPoolId', { 'x-authing-userpool-id': 'another-pool', 'x-genauth-userpool-id': 'another-pool' }, { userPoolId: 'another-pool' }],
    ])('%s: 204, nothing revoked nor flushed, one warning, `ignored` on the channel', async (_where, headers, data) => {
      const ours = emulator().guardOptions().genauth.userPoolId;
      const withOurs = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === '<ours>' ? ours : v]));
      const alice = await bearerFor(emulator(), 'alice');
      expect(await reports(alice)).toBe(200);
      emulator().setGrants('alice', []);
      const block = JSON.stringify({ eventName: 'user:blocked', data: { user: { userId: 'alice' }, ...data } });
      const revoke = JSON.stringify({ eventName: 'permission:revoke', data: { targetType: 'USER', targetIdentifiers: ['alice'], namespace: 'default', ...data } });
      for (const body of [block, revoke]) {
        const answer = await deliver(body, JSON_TYPE, withOurs(headers));
        expect(answer.status).toBe(204);
        expect(answer.body).toBe('');
      }
      expect(await reports(alice)).toBe(200);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('genauth.userPoolId');
      expect(warnings[0]).not.toContain('another-pool');
      expect(events.map((event) => [event.eventName, event.status, event.ignored, event.revokedUsers, event.invalidatedUsers, event.invalidatedAll])).toEqual([
        ['user:blocked', 204, 'other_user_pool', 0, 0, false],
        ['permission:revoke', 204, 'other_user_pool', 0, 0, false],
      ]);
    });

    it('writes the event name into its warning quoted and escaped: a sender cannot forge log lines', async () => {
      const forged = 'user:blocked\r\ngenauth-guard: all is well\u001b[2K';
      const body = JSON.stringify({ eventName: forged, data: { user: { userId: 'alice' }, userPoolId: 'another-pool' } });
      expect((await deliver(body, JSON_TYPE)).status).toBe(204);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(warnings[0]).toContain(JSON.stringify(forged));
    });

    it('acts on a delivery naming ours, in the header and in data, and on one naming none', async () => {
      const ours = emulator().guardOptions().genauth.userPoolId;
      const alice = await bearerFor(emulator(), 'alice');
      const bob = await bearerFor(emulator(), 'bob');
      expect(await reports(alice)).toBe(200);
      expect(await reports(bob)).toBe(200);
      expect((await deliver(JSON.stringify({ eventName: 'user:blocked', data: { user: { userId: 'alice', userPoolId: ours }, userPoolId: ours } }), JSON_TYPE, { 'x-authing-userpool-id': ours })).status).toBe(204);
      expect(await reports(alice)).toBe(401);
      expect((await deliver(JSON.stringify({ eventName: 'user:blocked', data: { user: { userId: 'bob' } } }), JSON_TYPE)).status).toBe(204);
      expect(await reports(bob)).toBe(401);
      expect(warnings).toEqual([]);
      expect(events.map((event) => event.ignored)).toEqual([undefined, undefined]);
    });

    // Fails closed: a delivery that names ours anywhere may be ours, and acting on one of another pool
    // only invalidates, where dropping one of ours would keep a blocked user's tokens working.
    it.each([
      ['the header naming ours, data.userPoolId another', { 'x-authing-userpool-id': '<ours>' }, { userPoolId: 'another-pool' }],
      ['data.userPoolId naming ours, the header another', { 'x-genauth-userpool-id': 'another-pool' }, { userPoolId: '<ours>' }],
    ])('acts on a delivery naming ours anywhere: %s', async (_where, headers, data) => {
      const ours = emulator().guardOptions().genauth.userPoolId;
      const withOurs = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === '<ours>' ? ours : v]));
      const alice = await bearerFor(emulator(), 'alice');
      expect(await reports(alice)).toBe(200);
      const block = JSON.stringify({ eventName: 'user:blocked', data: { user: { userId: 'alice' }, ...withOurs(data) } });
      expect((await deliver(block, JSON_TYPE, withOurs(headers))).status).toBe(204);
      expect(await reports(alice)).toBe(401);
      expect(events.map((event) => [event.eventName, event.ignored, event.revokedUsers])).toEqual([['user:blocked', undefined, 1]]);
    });
  });
});
