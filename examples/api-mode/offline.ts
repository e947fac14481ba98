// The offline matcher snippet of docs/api-mode.md, run by test/docs/examples.test.ts.
import { readFileSync } from 'node:fs';
import { indexGrants, matchApi } from 'genauth-guard';

/** The grant set docs/api-mode.md shows, as GenAuth's get-user-authorized-resources `list`. */
export const list: Parameters<typeof indexGrants>[0] = JSON.parse(readFileSync(new URL('./grants.json', import.meta.url), 'utf8'));

export function offlineExample() {
  // #region match-api
  const grants = indexGrants(list); // the `list` of get-user-authorized-resources
  const denied = matchApi(grants, 'DELETE', '/api/v1/admin/users/1');
  // { allowed: false, reason: 'denied', action: 'delete', path: '/api/v1/admin/users/1', grant: { code: 'admin', ... } }
  const refused = matchApi(grants, 'GET', '/api/v1/../admin');
  // { allowed: false, reason: 'invalid_target', problem: 'dot_segment' }
  const otherCase = matchApi(grants, 'GET', '/API/v1/users');
  // { allowed: false, reason: 'no_grant', ... }: ALLOW patterns match case-sensitively by default
  const folded = matchApi(grants, 'GET', '/API/v1/users', { caseSensitive: false });
  // { allowed: true, reason: 'allowed', ... }: folded as the router folds (by default Express's)
  const onFastify = matchApi(grants, 'GET', '/API/v1/users', { caseSensitive: false, router: { caseFold: 'none', ignoreTrailingSlash: false } });
  // { allowed: false, reason: 'no_grant', ... }: Fastify's router is case-sensitive
  // #endregion match-api
  return { denied, refused, otherCase, folded, onFastify };
}
