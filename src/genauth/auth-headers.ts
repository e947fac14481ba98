/** The headers that authenticate one call: the management token's, or a fresh AK/SK signature. */
import type { ResolvedGenAuthOptions } from '../options/resolved.js';
import type { Deadline } from './deadline.js';
import type { ManagementToken, ManagementTokens } from './management-token.js';
import { signatureNonce, signRequest } from './signature.js';

const SDK_VERSION = 'genauth-guard:0.1.0';

/** The management token each headers object carries (token scheme), so a caller knows which one it sent. */
const carried = new WeakMap<object, ManagementToken>();

/** The management token `headers` (from an {@link AuthHeaders} call) carry; undefined under the signature scheme. */
export function tokenCarriedBy(headers: object): ManagementToken | undefined {
  return carried.get(headers);
}

/** Headers of one GET of `path` with query `data`. A signature is new for every attempt (nonce, date). */
export type AuthHeaders = (deadline: Deadline, path: string, data: Record<string, string>) => Promise<Record<string, string>>;

type HeaderSettings = Pick<
  ResolvedGenAuthOptions,
  'authScheme' | 'accessKeyId' | 'accessKeySecret' | 'headerPrefix' | 'signatureScheme' | 'userPoolId' | 'tenantId' | 'tenantHeader'
>;

/** `now`: the wall clock, for the signature's `date`. */
export function createAuthHeaders(config: HeaderSettings, tokens: ManagementTokens, now: () => number): AuthHeaders {
  const tenantHeaders: Record<string, string> = config.tenantId === undefined ? {} : { [config.tenantHeader]: config.tenantId };
  const baseHeaders: Record<string, string> = { accept: 'application/json', [`${config.headerPrefix}userpool-id`]: config.userPoolId, ...tenantHeaders };
  // The headers of the current management token, built once per token rather than once per call.
  let tokenHeaders: { token: ManagementToken; headers: Record<string, string> } | undefined;

  if (config.authScheme === 'signature') {
    // Every `<prefix>*` header sent is part of the signed string, and the access key names the pool:
    // like the Node SDK, send no pool header here (an unsigned one breaks the signature).
    return async (_deadline, path, data) => ({
      accept: 'application/json',
      ...signRequest({
        method: 'GET',
        path,
        data,
        accessKeyId: config.accessKeyId,
        accessKeySecret: config.accessKeySecret,
        headerPrefix: config.headerPrefix,
        scheme: config.signatureScheme,
        sdkVersion: SDK_VERSION,
        date: new Date(now()).toUTCString(),
        nonce: signatureNonce(),
        extraHeaders: tenantHeaders,
      }),
    });
  }
  return async (deadline) => {
    const current = await tokens.get(deadline);
    if (tokenHeaders?.token !== current) {
      tokenHeaders = { token: current, headers: { ...baseHeaders, authorization: `Bearer ${current.value}` } };
      carried.set(tokenHeaders.headers, current);
    }
    return tokenHeaders.headers;
  };
}
