// guard.ready() as a readiness probe uses it: while GenAuth's token endpoint fails (an error status, an
// error envelope, a web page, a dropped connection) it rejects, never throws, and its reasons, message
// and stack hold nothing GenAuth sent (nor the access key secret); once GenAuth answers, it resolves.
// The key set's and Redis's sides: setup-problems.test.ts, ready.test.ts, test/redis/trouble.test.ts.
import { describe, expect, it } from 'vitest';
import { createGuard, GuardNotReadyError, type Guard } from '../../src/index.js';
import type { Fault } from '../../src/testing/index.js';
import { closeAfterEach, resetToAliceReading, useEmulator } from '../fixtures.js';

const TOKEN = '/api/v3/get-management-token';
const UPSTREAM = 'UPSTREAM-WORDS';

const emulator = useEmulator();
const track = closeAfterEach<Guard>();

describe('ready() while GenAuth fails, then after', () => {
  it.each<[string, (secret: string) => Fault]>([
    ['a 503 whose body echoes the secret', (secret) => ({ kind: 'respond', status: 503, body: `${UPSTREAM} ${secret}`, path: TOKEN })],
    ['an error envelope with a message', () => ({ kind: 'body-error', statusCode: 500, message: UPSTREAM, path: TOKEN })],
    ['a web page', () => ({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: `<html>${UPSTREAM}</html>`, path: TOKEN })],
    ['a dropped connection', () => ({ kind: 'drop', path: TOKEN })],
  ])('%s: not ready, in our words only; ready once GenAuth answers', async (_name, fault) => {
    resetToAliceReading(emulator());
    const { accessKeySecret } = emulator().guardOptions().genauth;
    emulator().fault(fault(accessKeySecret as string));
    const guard = track(createGuard({ ...emulator().guardOptions(), logger: false }));
    let pending: Promise<void> | undefined;
    expect(() => (pending = guard.ready())).not.toThrow();
    const error = await pending!.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GuardNotReadyError);
    const notReady = error as GuardNotReadyError;
    expect(notReady.reasons.map((reason) => reason.option)).toEqual(['genauth.host']);
    const told = `${JSON.stringify(notReady.reasons)} ${notReady.message} ${notReady.stack}`;
    expect(told).not.toContain(UPSTREAM);
    expect(told).not.toContain(accessKeySecret);
    emulator().clearFaults();
    await guard.ready();
  });
});
