import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SignedData } from '../genauth/signature.js';
import type { TokenMinter } from './tokens.js';
import type { Body, EmulatorCall } from './types.js';
import { createSignatureVerifier, isSignatureAuthorization, signatureNonce } from './verify-signature.js';

/**
 * Management API authentication of the emulator: management tokens (issued by
 * `get-management-token`) and AK/SK request signatures, both answered the GenAuth way
 * (HTTP 200, body `statusCode` 401/403).
 */

export interface AuthOptions {
  userPoolId: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Management token lifetime, seconds. */
  tokenTtl: number;
  /** The tokens' `scoped_userpool_id` (`null`: none); calls are still checked against `userPoolId`. */
  tokenPoolId: string | null;
  /** Signature clock skew window, ms. */
  maxSkew: number;
  minter: () => TokenMinter;
}

/** What the authenticator needs from one request. */
export interface AuthRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  data: SignedData;
}

/** The user pool id headers of both spellings (GENAUTH-PROTOCOL 1.3). */
const POOL_HEADERS = ['x-authing-userpool-id', 'x-genauth-userpool-id'] as const;

export function createAuthenticator(options: AuthOptions) {
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const signatures = createSignatureVerifier({
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    maxSkew: options.maxSkew,
  });

  /**
   * Every pool header sent must name the pool: reading only the first spelling let a request naming two
   * pools (`x-authing-` one, `x-genauth-` another) through. A header sent twice arrives joined
   * (`a, b`), as a Node server reads it, so it names no pool and is refused too.
   */
  function checkPool(headers: Readonly<Record<string, string>>, required: boolean): Body | undefined {
    const pools = POOL_HEADERS.map((name) => headers[name]).filter((pool) => pool !== undefined);
    // With a signature the access key names the pool; the header is optional but must not contradict it.
    if (pools.length === 0 && !required) return undefined;
    const named = pools.length > 0 && pools.every((pool) => pool === options.userPoolId);
    return named ? undefined : { statusCode: 403, apiCode: 2224, message: '用户池不存在' };
  }

  return {
    /** Notes the signature nonce on arrival (before faults), so a replay is caught even after a faulted first try. */
    observe(call: EmulatorCall, headers: Readonly<Record<string, string>>): boolean {
      const nonce = signatureNonce(headers);
      if (nonce === undefined) return false;
      call.nonce = nonce;
      return signatures.observe(nonce);
    },

    /** `undefined` when the request is authenticated; otherwise the body to answer (HTTP 200). */
    check(request: AuthRequest, call: EmulatorCall, replayed: boolean): Body | undefined {
      const authorization = request.headers.authorization;
      if (isSignatureAuthorization(authorization)) {
        call.auth = 'signature';
        return signatures.verify(request, replayed) ?? checkPool(request.headers, false);
      }
      call.auth = 'token';
      const token = (authorization ?? '').replace(/^bearer\s+/i, '').trim();
      const expiry = tokens.get(token);
      if (expiry === undefined || expiry <= Date.now()) {
        return { statusCode: 401, message: token ? 'management token invalid or expired' : 'missing authorization' };
      }
      return checkPool(request.headers, true);
    },

    /** `get-management-token`: a JWT carrying `scoped_userpool_id` (unless `tokenPoolId` is null), like GenAuth's. */
    async issueToken(body: unknown): Promise<Body> {
      const credentials = body as { accessKeyId?: unknown; accessKeySecret?: unknown };
      if (credentials.accessKeyId !== options.accessKeyId || credentials.accessKeySecret !== options.accessKeySecret) {
        return { statusCode: 401, message: 'accessKeyId or accessKeySecret is wrong' };
      }
      const now = Math.floor(Date.now() / 1000);
      const key = options.minter().key('RS256');
      const token = await new SignJWT({ ...(options.tokenPoolId === null ? {} : { scoped_userpool_id: options.tokenPoolId }), jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
        .setSubject(options.accessKeyId)
        .setIssuedAt(now)
        .setExpirationTime(now + options.tokenTtl)
        .sign(key.privateKey);
      tokens.set(token, (now + options.tokenTtl) * 1000);
      return { statusCode: 200, message: '', data: { access_token: token, expires_in: options.tokenTtl } };
    },

    revokeTokens: () => tokens.clear(),
  };
}

/** The emulator's authenticator. */
export type Authenticator = ReturnType<typeof createAuthenticator>;
