import type { TokenMinter } from '../tokens.js';

/** The OIDC side of the emulator: discovery document and JWKS (public keys only). */

export interface OidcDeps {
  issuer: () => string;
  minter: () => TokenMinter;
  jwksAvailable: () => boolean;
}

/** Answers `GET /oidc/.well-known/*`: `{ status, json }`, or `undefined` for another route. */
export function oidcRoute(method: string, path: string, deps: OidcDeps): { status: number; json: unknown } | undefined {
  if (method !== 'GET') return undefined;
  const issuer = deps.issuer();
  if (path === '/oidc/.well-known/jwks.json') {
    if (!deps.jwksAvailable()) return { status: 503, json: { statusCode: 503, message: 'JWKS unavailable (emulated)' } };
    return { status: 200, json: deps.minter().jwks() };
  }
  if (path === '/oidc/.well-known/openid-configuration') {
    return {
      status: 200,
      json: {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/token/introspection`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'HS256'],
      },
    };
  }
  return undefined;
}
