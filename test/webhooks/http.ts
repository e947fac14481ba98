/**
 * For the webhook tests: a small undici client (posts a body with chosen headers, returns status,
 * headers and text), delivery bodies, and each adapter's app with the webhook route.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { request } from 'undici';
import { afterEach, beforeEach } from 'vitest';
import { createExpressGuard } from '../../src/adapters/express.js';
import { genauthGuard } from '../../src/adapters/fastify.js';
import { createKoaGuard } from '../../src/adapters/koa.js';
import type { GuardOptions, Requirement } from '../../src/index.js';
import type { GenAuthEmulator } from '../../src/testing/index.js';
import { seedStandardTenant } from '../fixtures.js';

export interface Posted {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface PostOptions {
  method?: 'POST' | 'GET' | 'PUT';
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Readable;
}

/** Sends one request to `http://127.0.0.1:<port><path>`. */
export async function post(port: number, path: string, { method = 'POST', headers = {}, body }: PostOptions = {}): Promise<Posted> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { method, headers, body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** Headers of a JSON delivery with the given secret (in GenAuth's documented header). */
export function jsonHeaders(secret: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'user-agent': 'authing-webhook@2.0', 'x-authing-webhook-secret': secret, ...extra };
}

/** A JSON delivery body. */
export function eventBody(eventName: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({ eventName, data });
}

/** A form-encoded delivery body: `eventName` and `data` as a JSON string. */
export function formBody(eventName: string, data: Record<string, unknown> = {}): string {
  return new URLSearchParams({ eventName, data: JSON.stringify(data) }).toString();
}

/**
 * A chunked JSON delivery (no content-length) of about `bytes` bytes, in 16 KiB chunks: well-formed,
 * so that a framework's own parser takes it and only the receiver's limit refuses it.
 */
export function chunked(bytes: number): Readable {
  const head = Buffer.from('{"eventName":"permission:add","data":{"pad":"');
  const tail = Buffer.from('"}}');
  return Readable.from(
    (function* () {
      yield head;
      for (let sent = 0; sent < bytes; sent += 16 * 1024) yield Buffer.alloc(Math.min(16 * 1024, bytes - sent), 0x61);
      yield tail;
    })(),
  );
}

/** An app {@link webhookApps} started: its port, and its guard's close(). */
export interface WebhookApp {
  port: number;
  close(): Promise<void>;
}

export interface WebhookAppsSetup {
  /** The guard's options, called once for each app started. */
  options: () => GuardOptions;
  /** The webhook route's secret. */
  secret: string;
  /** What GET /reports requires (resource `reports`). */
  requirement: Requirement;
  /** Where each app pushes its closing (the guard's, the server's), for the test file's afterEach to run. */
  closers: Array<() => Promise<unknown>>;
}

/**
 * Each adapter's app as `[name, start]` rows for `describe.each`: the webhook route at /hooks/genauth
 * (no body parser before it), GET /reports guarded, listening on 127.0.0.1.
 */
export function webhookApps({ options, secret, requirement, closers }: WebhookAppsSetup): Array<[string, () => Promise<WebhookApp>]> {
  async function listen(server: Server): Promise<number> {
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return (server.address() as AddressInfo).port;
  }
  return [
    ['Express', async () => {
      const guard = createExpressGuard(options());
      closers.push(() => guard.close());
      const app = express();
      app.post('/hooks/genauth', guard.webhook({ secret }));
      app.get('/reports', guard.requirePermission('reports', requirement), (_req, res) => void res.json({ ok: true }));
      return { port: await listen(app.listen(0, '127.0.0.1')), close: () => guard.close() };
    }],
    ['Koa', async () => {
      const guard = createKoaGuard(options());
      closers.push(() => guard.close());
      const app = new Koa();
      const router = new Router();
      router.post('/hooks/genauth', guard.webhook({ secret }));
      router.get('/reports', guard.requirePermission('reports', requirement), (ctx) => {
        ctx.body = { ok: true };
      });
      app.use(router.routes());
      return { port: await listen(app.listen(0, '127.0.0.1')), close: () => guard.close() };
    }],
    ['Fastify', async () => {
      const app = Fastify();
      await app.register(genauthGuard, { ...options(), webhook: { path: '/hooks/genauth', secret } });
      app.get('/reports', { config: { genauth: { resource: 'reports', requirement } } }, async () => ({ ok: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      closers.push(() => app.close());
      return { port: (app.server.address() as AddressInfo).port, close: () => app.genauth.close() };
    }],
  ];
}

/**
 * A webhook test file's set-up (call at its top level): before each test the standard tenant seeded and
 * the warnings cleared, after it every app started closed; the guard's warnings are collected in
 * `warnings`. `apps` as {@link webhookApps} gives them, with the emulator's guard options.
 */
export function useWebhookApps(emulator: () => GenAuthEmulator, { secret, requirement }: Pick<WebhookAppsSetup, 'secret' | 'requirement'>): {
  apps: Array<[string, () => Promise<WebhookApp>]>;
  warnings: string[];
} {
  const closers: Array<() => Promise<unknown>> = [];
  const warnings: string[] = [];
  beforeEach(() => {
    seedStandardTenant(emulator());
    warnings.length = 0;
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const options = () => ({ ...emulator().guardOptions(), logger: { warn: (line: string) => void warnings.push(line) } });
  return { apps: webhookApps({ options, secret, requirement, closers }), warnings };
}
