/** The options as anyone may see them: `guard.options`. */
import type { ResolvedCacheOptions, ResolvedOptions } from './resolved.js';

/** What {@link redactOptions} puts in place of a secret. */
export const REDACTED = '[redacted]';

/** {@link ResolvedOptions} without its secrets: what `guard.options` shows. */
export type RedactedOptions = Omit<ResolvedOptions, 'genauth' | 'jwt' | 'cache'> & {
  /** The dispatcher (a ProxyAgent holds the proxy's credentials) shows as `'[redacted]'` when set. */
  readonly genauth: Readonly<Omit<ResolvedOptions['genauth'], 'accessKeySecret' | 'dispatcher'> & { accessKeySecret: typeof REDACTED; dispatcher?: typeof REDACTED }>;
  readonly jwt: Readonly<Omit<NonNullable<ResolvedOptions['jwt']>, 'secret'> & { secret?: typeof REDACTED }> | undefined;
  /** The Redis client (whose options hold its password) shows as `'[redacted]'`. */
  readonly cache: Readonly<Omit<ResolvedCacheOptions, 'redis'> & { redis: typeof REDACTED | undefined }> | false;
};

/**
 * The options as anyone may see them (log, inspect, serialize): every secret replaced by
 * `'[redacted]'`. Code that needs a secret gets it from the resolved options, held in a closure.
 */
export function redactOptions(options: ResolvedOptions): RedactedOptions {
  return Object.freeze({
    ...options,
    genauth: redactGenAuth(options.genauth),
    jwt: options.jwt === undefined ? undefined : redactJwt(options.jwt),
    cache: options.cache === false ? false : Object.freeze({ ...options.cache, redis: options.cache.redis === undefined ? undefined : REDACTED }),
  }) as RedactedOptions;
}

function redactGenAuth(options: ResolvedOptions['genauth']): RedactedOptions['genauth'] {
  const { dispatcher, ...genauth } = options;
  return Object.freeze({ ...genauth, accessKeySecret: REDACTED, ...(dispatcher === undefined ? {} : { dispatcher: REDACTED }) });
}

function redactJwt(options: NonNullable<ResolvedOptions['jwt']>): RedactedOptions['jwt'] {
  const { secret, ...jwt } = options;
  return Object.freeze(secret === undefined ? jwt : { ...jwt, secret: REDACTED });
}
