/**
 * The one list of environment variables (docs/cli.md): the CLI reads a real tenant's settings from
 * them, and `genauth-guard emulator` prints the same names to point an app at the emulator.
 */
import { randomBytes } from 'node:crypto';
import type { GuardOptions } from '../options/types.js';
import { UsageError } from './exit-codes.js';

export const ENV = Object.freeze({
  host: 'GENAUTH_HOST',
  userPoolId: 'GENAUTH_USER_POOL_ID',
  accessKeyId: 'GENAUTH_ACCESS_KEY_ID',
  accessKeySecret: 'GENAUTH_ACCESS_KEY_SECRET',
  namespace: 'GENAUTH_NAMESPACE',
  tenantId: 'GENAUTH_TENANT_ID',
  tenantHeader: 'GENAUTH_TENANT_HEADER',
  issuer: 'GENAUTH_ISSUER',
  audience: 'GENAUTH_AUDIENCE',
  jwksUri: 'GENAUTH_JWKS_URI',
  webhookSecret: 'GENAUTH_WEBHOOK_SECRET',
  redisUrl: 'REDIS_URL',
});

/** The emulator's default credentials (`startEmulator()` without options). */
export const EMULATOR_DEFAULTS = Object.freeze({ userPoolId: 'emulator-pool', accessKeySecret: 'emulator-secret' });

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}

function required(env: Env, name: string): string {
  const text = value(env, name);
  if (text === undefined) throw new UsageError(`set ${name} (or pass --emulator URL)`);
  return text;
}

/**
 * The `genauth` options from the environment; with `emulator` (a URL), its host and, for whatever the
 * environment leaves unset, the emulator's default credentials.
 */
export function genauthFromEnv(env: Env, emulator?: string): GuardOptions['genauth'] {
  const host = emulator ?? value(env, ENV.host);
  const userPoolId = emulator === undefined ? required(env, ENV.userPoolId) : (value(env, ENV.userPoolId) ?? EMULATOR_DEFAULTS.userPoolId);
  const accessKeySecret = emulator === undefined ? required(env, ENV.accessKeySecret) : (value(env, ENV.accessKeySecret) ?? EMULATOR_DEFAULTS.accessKeySecret);
  const accessKeyId = value(env, ENV.accessKeyId);
  const namespace = value(env, ENV.namespace);
  const tenantId = value(env, ENV.tenantId);
  const tenantHeader = value(env, ENV.tenantHeader);
  return {
    userPoolId,
    accessKeySecret,
    ...(host === undefined ? {} : { host }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(tenantId === undefined ? {} : { tenantId }),
    ...(tenantHeader === undefined ? {} : { tenantHeader }),
  };
}

/**
 * JWT settings for commands that never verify a token (`explain`): the guard needs some, so a random
 * HS256 key that no token will ever be checked against.
 */
export function unusedJwt(): GuardOptions['jwt'] {
  return { secret: randomBytes(32), algorithms: ['HS256'] };
}
