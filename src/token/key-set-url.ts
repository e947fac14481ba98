/**
 * Over which transport the keys may come, for the configured `jwt.jwksUri` and for a discovered
 * `jwks_uri` alike: whoever can change a key set in transit can sign tokens the guard accepts. The
 * configured `genauth.host` follows the configured `jwt.jwksUri`'s rule: whoever reads its traffic
 * gets the access key secret.
 */

/** 127.0.0.0/8 (the URL parser writes every IPv4 form as a dotted quad), [::1], localhost. */
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/** Whether a URL's host is loopback, where a connection never crosses a network. */
export function isLoopbackHost(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}

/** Whether the issuer is an http URL (local development, an emulator). */
export function isHttpIssuer(issuer: string | undefined): boolean {
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

/**
 * Whether the guard may call GenAuth's management API at `url` (`genauth.host`): the same rule as a
 * configured `jwt.jwksUri`. Over plain http the access key secret (the token scheme's
 * get-management-token body) and then the management token, or every signed call, cross the network
 * in clear text; so plain http only on a loopback host (the emulator) or with an http `jwt.issuer`
 * (local development). `issuer` is undefined without one, and with `identity.resolve` (no `jwt`).
 */
export function managementTransportAllowed(url: URL, issuer: string | undefined): boolean {
  return keySetTransportAllowed(url, issuer, true);
}

/**
 * The ports fetch refuses to connect to: the WHATWG Fetch standard's "bad port" list
 * (https://fetch.spec.whatwg.org/#bad-port: SMTP, SSH, IRC, X11, ...), as undici (Node's fetch) has
 * it in `badPorts` of lib/web/fetch/constants.js, which it does not export. A URL on one of them is
 * rejected at once, without a connection, so a key set there can never be fetched. A test holds this
 * list to undici's and to what the global fetch refuses.
 */
export const FETCH_BAD_PORTS: ReadonlySet<string> = new Set([
  '1', '7', '9', '11', '13', '15', '17', '19', '20', '21', '22', '23', '25', '37', '42', '43', '53', '69', '77', '79',
  '87', '95', '101', '102', '103', '104', '109', '110', '111', '113', '115', '117', '119', '123', '135', '137',
  '139', '143', '161', '179', '389', '427', '465', '512', '513', '514', '515', '526', '530', '531', '532',
  '540', '548', '554', '556', '563', '587', '601', '636', '989', '990', '993', '995', '1719', '1720', '1723',
  '2049', '3659', '4045', '4190', '5060', '5061', '6000', '6566', '6665', '6666', '6667', '6668', '6669', '6679',
  '6697', '10080',
]);

/** Whether fetch refuses `url` outright for its port (an http or https URL on a {@link FETCH_BAD_PORTS} port). */
export function fetchRefusesPort(url: URL): boolean {
  return (url.protocol === 'https:' || url.protocol === 'http:') && FETCH_BAD_PORTS.has(url.port);
}
