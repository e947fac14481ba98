/** The bridge's options are checked at once: a TypeError naming the option, never a silent default. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instrumentGenAuthGuard, SCOPE_VERSION } from '../../src/otel/index.js';

describe('instrumentGenAuthGuard options', () => {
  it.each([
    ['not an object', 'otel', 'nope'],
    ['an unknown key', 'otel.recordUserID', { recordUserID: true }],
    ['a tracer provider without getTracer', 'otel.tracerProvider', { tracerProvider: {} }],
    ['a meter provider without getMeter', 'otel.meterProvider', { meterProvider: { getTracer() {} } }],
    ['guards not an array', 'otel.guards', { guards: { cacheStats() {} } }],
    ['a guard without cacheStats', 'otel.guards[1]', { guards: [{ cacheStats: () => ({ entries: 0, bytes: 0 }) }, {}] }],
    ['recordUserId not a boolean', 'otel.recordUserId', { recordUserId: 'yes' }],
  ])('%s: TypeError naming %s', (_what, path, options) => {
    expect(() => instrumentGenAuthGuard(options as never)).toThrow(TypeError);
    expect(() => instrumentGenAuthGuard(options as never)).toThrow(`genauth-guard: option "${path}"`);
  });

  it('a misspelt key is pointed to the right one', () => {
    expect(() => instrumentGenAuthGuard({ recordUserID: true } as never)).toThrow('did you mean "otel.recordUserId"?');
  });

  it('no options: the global (no-op until an SDK registers) providers', () => {
    const otel = instrumentGenAuthGuard();
    otel.disable();
  });

  it('the instrumentation scope carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SCOPE_VERSION).toBe(pkg.version);
  });
});
