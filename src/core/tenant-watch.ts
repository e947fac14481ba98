/**
 * Tells a wrong `genauth.tenantId` from users outside the tenant. GenAuth answers apiCode 2120008 ("user
 * disabled or not a member of this tenant") for one disabled user as for every user of a tenant that is
 * not theirs, so one such answer is that user's business (a 503 for them, nothing logged). A set-up
 * problem is reported when {@link NON_MEMBERS_IN_A_ROW} distinct users are so answered with no user's
 * grants loaded between them (one member loaded shows the tenant is right). Only upstream loads pass
 * here: the cached hot path is untouched, and a guard without a tenant is not wrapped at all.
 */
import type { GenAuthClient } from '../genauth/client.js';
import { refusedAsNonMember, tenantProblem, type SetupProblem } from './setup-problems.js';

/** Distinct users refused as non-members in a row, with no load between, that make a set-up problem. */
export const NON_MEMBERS_IN_A_ROW = 5;

/** `client`, telling `report` of a run of distinct users GenAuth refused as outside the tenant. */
export function watchTenantMembers(client: GenAuthClient, report: (problem: SetupProblem) => void): GenAuthClient {
  // At most NON_MEMBERS_IN_A_ROW ids, kept only to count distinct users; never logged.
  const refused = new Set<string>();
  return {
    getUserAuthorizedResources(query) {
      return client.getUserAuthorizedResources(query).then(
        (list) => {
          refused.clear();
          return list;
        },
        (error: unknown) => {
          if (refusedAsNonMember(error)) {
            refused.add(query.userId);
            if (refused.size >= NON_MEMBERS_IN_A_ROW) {
              refused.clear();
              report(tenantProblem(`${NON_MEMBERS_IN_A_ROW} distinct users in a row, and no user's grants loaded between them`));
            }
          }
          throw error;
        },
      );
    },
    ready: () => client.ready(),
    close: () => client.close(),
  };
}
