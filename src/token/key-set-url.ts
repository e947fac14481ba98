/**
 * Over which transport the keys may come, for the configured `jwt.jwksUri` and for a discovered
 * `jwks_uri` alike: whoever can change a key set in transit can sign tokens the guard accepts.
 */

/** 127.0.0.0/8 (the URL parser writes every IPv4 form as a dotted quad), [::1], localhost. */
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/** Whether a URL's host is loopback, where a connection never crosses a network. */
export function isLoopbackHost(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}

/** Whether the issuer is an http URL (local development, an emulator). */
function isHttpIssuer(issuer: string | undefined): boolean {
  return issuer !== undefined && URL.canParse(issuer) && new URL(issuer).protocol === 'http:';
}

/**
 * Whether keys may be fetched from `url` for tokens of `issuer`: over https always (RFC 8414 and OIDC
 * Discovery require an https `jwks_uri`); over plain http when the issuer is an http URL itself (local
 * development, an emulator), or, for a URL the operator wrote (`configured`), on a loopback host. No
 * issuer, or one that is not an http URL, is no local development: plain http off loopback is refused.
 * A discovered `jwks_uri` gets no loopback exception: the issuer's metadata, fetched over the network,
 * chose it, not the operator.
 */
export function keySetTransportAllowed(url: URL, issuer: string | undefined, configured: boolean): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return isHttpIssuer(issuer) || (configured && isLoopbackHost(url));
}
