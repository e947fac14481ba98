// Shared test fixtures: one emulator per test file, and the standard tenant the adapter suites use.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startEmulator, type EmulatorOptions, type GenAuthEmulator, type MintOptions } from '../src/testing/index.js';

export const RESOURCES = '/api/v3/get-user-authorized-resources';

/** Starts an emulator before the file's tests and closes it after; call the getter inside tests. */
export function useEmulator(options?: EmulatorOptions): () => GenAuthEmulator {
  let emulator: GenAuthEmulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator(options);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (emulator === undefined) throw new Error('the emulator starts in beforeAll');
    return emulator;
  };
}

/**
 * Resets faults, calls and grants, then seeds the standard tenant: alice may start server 1, read
 * reports and do anything on disks but delete disk 9 (DENY); bob administers reports.
 */
export function seedStandardTenant(emulator: GenAuthEmulator): void {
  emulator.clearGrants();
  emulator.clearFaults();
  emulator.resetCalls();
  emulator.setJwksAvailable(true);
  emulator.setGrants('alice', [
    { resourceCode: 'ecs:1', resourceType: 'API', actions: ['ecs:Start', 'ecs:Stop'], apiIdentifier: '/api/v1/servers' },
    { resourceCode: 'reports', actions: ['reports:Read'] },
    { resourceCode: 'disk:*', actions: ['*'] },
    { resourceCode: 'disk:9', actions: ['disk:Delete'], effect: 'DENY' },
  ]);
  emulator.setGrants('bob', [{ resourceCode: 'reports', actions: ['reports:Admin'] }]);
}

/** An `Authorization` header value for a freshly minted token. */
export async function bearerFor(emulator: GenAuthEmulator, user: string, options?: MintOptions): Promise<string> {
  return `Bearer ${await emulator.mintToken(user, options)}`;
}

/** A management token from the emulator's token endpoint, over HTTP (its access key and secret). */
export async function managementToken(emulator: GenAuthEmulator): Promise<string> {
  const res = await request(`${emulator.url}/api/v3/get-management-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret }),
  });
  return ((await res.body.json()) as { data: { access_token: string } }).data.access_token;
}

/** Resolves with the port once `server`, told to listen on 127.0.0.1 port 0 (`app.listen(0, '127.0.0.1')`), listens. */
export async function listeningPort(server: Server): Promise<number> {
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

/** No faults, no calls, no grants. */
export function resetEmulator(emulator: GenAuthEmulator): void {
  emulator.clearGrants();
  emulator.clearFaults();
  emulator.resetCalls();
}

/** No faults, no calls and no grants but alice's `reports:Read`: the start of each test of one guard option. */
export function resetToAliceReading(emulator: GenAuthEmulator): void {
  resetEmulator(emulator);
  emulator.setGrants('alice', [{ resourceCode: 'reports', actions: ['reports:Read'] }]);
}

/** No faults, no calls and no grants but alice's `ecs:Start` on `ecs:1` and `reports:Read`: the start of each adapter test. */
export function resetToAliceStartingAndReading(emulator: GenAuthEmulator): void {
  resetEmulator(emulator);
  emulator.setGrants('alice', [
    { resourceCode: 'ecs:1', actions: ['ecs:Start'] },
    { resourceCode: 'reports', actions: ['reports:Read'] },
  ]);
}

/** Closes after each test the guards a file's tests made: `const track = closeAfterEach<ExpressGuard>(); track(guard)`. */
export function closeAfterEach<G extends { close(): Promise<void> }>(): (guard: G) => G {
  let made: G[] = [];
  afterEach(async () => {
    await Promise.all(made.map((guard) => guard.close()));
    made = [];
  });
  return (guard) => {
    made.push(guard);
    return guard;
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the wall clock is in a later second than `ms`: a token's `iat` is in whole seconds. */
export async function nextSecond(ms: number): Promise<void> {
  while (Math.floor(Date.now() / 1000) <= Math.floor(ms / 1000)) await sleep(5);
}

/** Polls `condition` every 5 ms; fails after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`);
    await sleep(5);
  }
}
