/**
 * Hand-made JWS/JWE for the JWT and JWKS families: any header (no `alg`, `crit`, `jku`, odd `kid`
 * types), any payload bytes, signed with WebCrypto directly so nothing on the signing side refuses
 * what a verifier must refuse.
 */
import { webcrypto } from 'node:crypto';
import { CompactEncrypt, base64url, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
const { subtle } = webcrypto;

const encode = (value: unknown): string =>
  base64url.encode(typeof value === 'string' ? value : value instanceof Uint8Array ? value : JSON.stringify(value));

/** Standard claims for `sub`, valid for ten minutes, with `extra` applied last (`undefined` deletes). */
export function claimsFor(issuer: string, audience: string, sub: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub, iss: issuer, aud: audience, iat: now, exp: now + 600 };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete claims[key];
    else claims[key] = value;
  }
  return claims;
}

/** `header.payload.signature` with the signature given as base64url text. */
export function assemble(header: unknown, payload: unknown, signature = ''): string {
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

const SIGNERS: Record<string, (key: CryptoKey, data: Uint8Array) => Promise<ArrayBuffer>> = {
  RS256: (key, data) => subtle.sign('RSASSA-PKCS1-v1_5', key, data),
  PS256: (key, data) => subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, key, data),
  ES256: (key, data) => subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data),
  EdDSA: (key, data) => subtle.sign('Ed25519', key, data),
  HS256: (key, data) => subtle.sign('HMAC', key, data),
};

/**
 * Signs `header.payload` as `scheme` (the signature algorithm, whatever the header says) with `key`.
 * `payload` is JSON-encoded unless it is a string or bytes (sent as is).
 */
export async function signRaw(scheme: keyof typeof SIGNERS, key: CryptoKey, header: unknown, payload: unknown): Promise<string> {
  const input = `${encode(header)}.${encode(payload)}`;
  const signer = SIGNERS[scheme];
  if (signer === undefined) throw new Error(`no signer for ${scheme}`);
  const signature = new Uint8Array(await signer(key, new TextEncoder().encode(input)));
  return `${input}.${base64url.encode(signature)}`;
}

/** An HS256 token whose MAC key is `secret` (text or bytes): the algorithm-confusion attack. */
export async function hmacSigned(secret: string | Uint8Array, header: unknown, payload: unknown): Promise<string> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const key = await subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return signRaw('HS256', key, header, payload);
}

/** A key pair of an outsider, with its public JWK. */
export async function outsiderKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; pem: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: await exportJWK(publicKey), pem: await exportSPKI(publicKey) };
}

/** A real compact JWE (five parts) of `payload`, encrypted to a fresh RSA key (RSA-OAEP-256, A256GCM). */
export async function encrypted(payload: unknown, kid?: string): Promise<string> {
  const { publicKey } = await generateKeyPair('RSA-OAEP-256');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', typ: 'JWT', ...(kid === undefined ? {} : { kid }) })
    .encrypt(publicKey);
}
