// `genauth-guard check-config` with `cache.redis`: a Redis ACL user refused a command the shared tier
// needs is a set-up problem (`redis_permission`, exit 1, not an outage), named, with no Redis text
// (which names the ACL user). Real redis-server and the emulator, the built CLI as a child process.
import { describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../src/cli/emulator.js';
import { useEmulator } from '../fixtures.js';
import { ask, redisTestsRun, useRedisServer } from '../redis/server.js';
import { runCli } from './run.js';

const run = redisTestsRun('test/cli/check-config-redis.test.ts');

interface Report {
  ready?: boolean;
  problems?: Array<{ kind: string; option: string; cause: string; transient: boolean }>;
}

describe.skipIf(!run)('genauth-guard check-config with cache.redis', () => {
  const emulator = useEmulator();
  const redis = useRedisServer();

  async function checkAs(user: string, rules: string) {
    expect(await ask(redis().port, `ACL SETUSER ${user} on >${user}-pw ${rules}`)).toMatch(/^\+OK/);
    const env = { ...emulatorEnv(emulator()), REDIS_URL: `redis://${user}:${user}-pw@127.0.0.1:${redis().port}`, REDIS_PREFIX: `cli-${user}:` };
    return runCli(['check-config', 'test/cli/fixtures/options-redis.mjs', '--json'], env);
  }

  it('a user that may not PUBLISH: redis_permission naming PUBLISH and cache.redis, not transient, exit 1', async () => {
    const { code, stdout } = await checkAs('nopublish', '~* &* +@all -publish');
    const report = JSON.parse(stdout) as Report;
    expect(report.ready).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems?.[0]).toMatchObject({ kind: 'redis_permission', option: 'cache.redis', transient: false });
    expect(report.problems?.[0]?.cause).toContain('PUBLISH');
    // Redis's own words name the ACL user: never printed.
    expect(stdout).not.toContain('nopublish');
    expect(code).toBe(1);
  });

  it('a user allowed every command: ready, exit 0', async () => {
    const { code, stdout } = await checkAs('everything', '~* &* +@all');
    expect(JSON.parse(stdout)).toMatchObject({ ready: true });
    expect(code).toBe(0);
  });
});
