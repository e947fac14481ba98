/**
 * check-config's connectivity: GenAuth's management API through the guard's own client (credentials,
 * auth scheme, headers, dispatcher as configured) and the verification keys (jwt.jwksUri, or the
 * issuer's discovery document then its jwks_uri). Reports kinds and statuses, never upstream text.
 */
import { createGuard } from '../core/guard.js';
import type { GuardOptions } from '../options/types.js';
import { EXIT } from './exit-codes.js';
import type { Io } from './io.js';
import { upstreamFailure } from './upstream.js';

/** One upstream checked. */
export interface ConnectivityCheck {
  /** `genauth` (the management API) or `jwks` (the verification keys). */
  name: 'genauth' | 'jwks';
  ok: boolean;
  /** The URL contacted (no secret is ever in it). */
  url?: string;
  /** Why it failed: a kind and status, never an upstream message. */
  error?: string;
  /** True when the failure is an outage (network, timeout, 5xx, 429), worth a retry. */
  unreachable?: boolean;
  /** Set when nothing had to be contacted (`jwt.secret` or `jwt.publicKey`). */
  skipped?: string;
}

/** A user id no tenant holds: GenAuth answers "user not found", which needs valid credentials. */
const PROBE_USER = 'genauth-guard-check-config-probe';

async function checkGenAuth(options: GuardOptions, io: Io): Promise<ConnectivityCheck> {
  const url = options.genauth.host ?? 'https://api.genauth.ai';
  io.progress(`asking GenAuth at ${url} for a user's grants (credentials check)`);
  // No cache tier (Redis) and no decision hook: only the upstream call is under test.
  const guard = createGuard({ ...options, cache: false, onDecision: undefined, retryAfter: 1 });
  try {
    await guard.check({ userId: PROBE_USER, resource: 'genauth-guard:check-config', action: 'genauth-guard:Probe' });
    return { name: 'genauth', ok: true, url };
  } catch (error) {
    const failure = upstreamFailure(error, 'GenAuth');
    return { name: 'genauth', ok: false, url, error: failure.message.replace(/^GenAuth: /, ''), unreachable: failure.exitCode === EXIT.UNREACHABLE };
  } finally {
    await guard.close();
  }
}

class FetchFailure extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

async function fetchJson(url: string, timeout: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeout), redirect: 'error', headers: { accept: 'application/json' } });
  } catch (error) {
    const timedOut = (error as { name?: string }).name === 'TimeoutError';
    throw new FetchFailure(timedOut ? 'timeout' : 'network', true);
  }
  if (!response.ok) throw new FetchFailure(`HTTP ${response.status}`, response.status >= 500 || response.status === 429);
  try {
    return await response.json();
  } catch {
    throw new FetchFailure('not JSON', false);
  }
}

async function checkJwks(options: GuardOptions, io: Io): Promise<ConnectivityCheck> {
  const { jwt } = options;
  if (jwt.secret !== undefined || jwt.publicKey !== undefined) return { name: 'jwks', ok: true, skipped: jwt.secret !== undefined ? 'jwt.secret' : 'jwt.publicKey' };
  const timeout = jwt.jwks?.timeoutDuration ?? 3000;
  let url = jwt.jwksUri;
  try {
    if (url === undefined) {
      const discovery = `${(jwt.issuer as string).replace(/\/+$/, '')}/.well-known/openid-configuration`;
      url = discovery;
      io.progress(`reading the discovery document ${discovery}`);
      const metadata = (await fetchJson(discovery, timeout)) as { issuer?: unknown; jwks_uri?: unknown } | null;
      if (metadata === null || metadata.issuer !== jwt.issuer) throw new FetchFailure('the discovery document names another issuer than jwt.issuer', false);
      if (typeof metadata.jwks_uri !== 'string') throw new FetchFailure('the discovery document has no jwks_uri', false);
      url = metadata.jwks_uri;
    }
    io.progress(`fetching the keys ${url}`);
    const set = (await fetchJson(url, timeout)) as { keys?: unknown } | null;
    if (!Array.isArray(set?.keys) || set.keys.length === 0) throw new FetchFailure('no keys in the key set', false);
    return { name: 'jwks', ok: true, url };
  } catch (error) {
    if (!(error instanceof FetchFailure)) throw error;
    return { name: 'jwks', ok: false, url, error: error.message, unreachable: error.unreachable };
  }
}

/** Checks GenAuth and the keys; the options are valid (resolveOptions accepted them). */
export async function checkConnectivity(options: GuardOptions, io: Io): Promise<ConnectivityCheck[]> {
  return [await checkGenAuth(options, io), await checkJwks(options, io)];
}
