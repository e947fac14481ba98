import type { IncomingMessage } from 'node:http';
import type { Body } from './types.js';

/**
 * The tenant a request names in the headers the emulator reads (`tenantHeaders`): `undefined` for none
 * (no header, or an empty one: the Go SDK sends its header on every call, empty without a tenant), or a
 * refusal when they name two tenants (two headers, or one sent twice): answered with one of them, a
 * client that sends both by mistake would pass its tests on whichever the emulator happened to pick.
 */
export function requestTenant(req: IncomingMessage, names: readonly string[]): { tenant: string | undefined } | { refused: Body } {
  const named = new Set<string>();
  for (const name of names) {
    for (const value of req.headersDistinct[name] ?? []) {
      const tenant = value.trim();
      if (tenant !== '') named.add(tenant);
    }
  }
  if (named.size > 1) return { refused: { statusCode: 400, message: 'the tenant headers name more than one tenant' } };
  return { tenant: named.values().next().value };
}
