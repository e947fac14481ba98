/** `GET get-user-authorized-resources`: the query, one attempt, and reading its answer. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GenAuthApiError } from '../errors.js';
import { tokenCarriedBy, type AuthHeaders } from './auth-headers.js';
import type { Deadline } from './deadline.js';
import { hasDuplicateKey } from './duplicate-keys.js';
import { NOT_A_TENANT_MEMBER_API_CODE, missingFromList, readEnvelope, unreadableCount } from './envelope.js';
import { LIST_KEYS, hasOtherSpelling } from './key-spellings.js';
import type { ManagementTokens, UpstreamAnswer } from './management-token.js';
import type { AuthorizedResource, AuthorizedResourceList, ResourceType, UserIdType } from './types.js';

export const RESOURCES_PATH = '/api/v3/get-user-authorized-resources';

export interface AuthorizedResourcesQuery {
  userId: string;
  userIdType: UserIdType;
  namespace: string;
  resourceType?: ResourceType | undefined;
}

export interface AuthorizedResourcesCall {
  /** GETs `path` (with its query string) with `headers`. */
  get(path: string, headers: Record<string, string>, deadline: Deadline): Promise<UpstreamAnswer>;
  headers: AuthHeaders;
  /** Present with the `token` scheme: a refused token is dropped and the call made once more (see worthReplacing). */
  tokens: ManagementTokens | undefined;
  /** Use a list shorter than its `totalCount` as sent (else it is a `partial_list` failure). */
  acceptPartialLists: boolean;
  /** Told when a partial list is refused. */
  partialList(listLength: number, totalCount: number): void;
}

/**
 * One attempt of the call, with one fresh management token if a cached one was refused (it may have
 * been revoked) and is worth replacing (`ManagementTokens.worthReplacing`). Returns the user's grants;
 * throws a GenAuthApiError.
 */
export async function requestAuthorizedResources(
  call: AuthorizedResourcesCall,
  query: AuthorizedResourcesQuery,
  deadline: Deadline,
): Promise<AuthorizedResource[]> {
  const data: Record<string, string> = { userId: query.userId, userIdType: query.userIdType, namespace: query.namespace };
  if (query.resourceType !== undefined) data.resourceType = query.resourceType;
  const path = `${RESOURCES_PATH}?${new URLSearchParams(data).toString()}`;
  for (let refreshed = false; ; refreshed = true) {
    const headers = await call.headers(deadline, RESOURCES_PATH, data);
    // The token these headers carry (token scheme), not the one held now: a refresh in the background
    // may have replaced it since they were made.
    const usedToken = call.tokens === undefined ? undefined : tokenCarriedBy(headers);
    const answer = await call.get(path, headers, deadline);
    const duplicateKeys = answer.text.length >= LONG_ANSWER ? await scannedApart(answer.text) : undefined;
    try {
      const list = readAuthorizedResources(call, answer, duplicateKeys);
      if (usedToken !== undefined) call.tokens?.accepted(usedToken);
      return list;
    } catch (error) {
      const kind = error instanceof GenAuthApiError ? error.kind : undefined;
      if (kind !== 'credentials') {
        if (kind === 'user_not_found' && usedToken !== undefined) call.tokens?.accepted(usedToken);
        throw error;
      }
      if (!refreshed && usedToken !== undefined && call.tokens !== undefined) {
        // Replaced since these headers were made (a refresh, or another call dropped it): try the new one.
        if (call.tokens.current() !== usedToken) continue;
        if (call.tokens.worthReplacing(usedToken)) {
          call.tokens.drop(usedToken);
          continue;
        }
      }
      throw error;
    }
  }
}

/**
 * A `list` as GenAuth sends it, as entries: an array, or one object (GenAuth's own documented example
 * shows `list` as one object: read as a list of one); undefined for anything else. The shared Redis
 * tier reads its entries' lists with it too. The entries themselves are read by the policy's indexing.
 */
export function readResourceList(list: unknown): AuthorizedResource[] | undefined {
  if (typeof list === 'object' && list !== null && !Array.isArray(list)) return [list as AuthorizedResource];
  return Array.isArray(list) ? (list as AuthorizedResource[]) : undefined;
}

/**
 * Answers this long (64 Ki characters, some 300 grants) or longer are scanned for keys named twice in a
 * turn of their own: for 10,000 grants the scan takes about half as long as the parse, and in the same
 * stretch it would hold up every other request that much longer.
 */
const LONG_ANSWER = 64 * 1024;

/** {@link hasDuplicateKey} in a turn of its own, then a turn boundary before the parse. */
async function scannedApart(text: string): Promise<boolean> {
  await nextTurn();
  const found = hasDuplicateKey(text);
  await nextTurn();
  return found;
}

/** The grants of an answer, or a GenAuthApiError (never carrying the upstream text). */
function readAuthorizedResources(call: AuthorizedResourcesCall, answer: UpstreamAnswer, duplicateKeys: boolean | undefined): AuthorizedResource[] {
  const { data: body } = readGrantsEnvelope(answer, duplicateKeys);
  const list = readResourceList(body.list);
  // With the answer's statuses: a problem without one means no answer came (an outage), and this is an answer.
  // `List` or `TotalCount` beside `list` or `totalCount`: no one meaning (see key-spellings.ts).
  if (list === undefined || hasOtherSpelling(body, LIST_KEYS)) throw new GenAuthApiError('bad_envelope', { httpStatus: answer.status, envelopeStatus: 200 });
  // A count that is no count leaves unknown whether the list is whole: not one to use, even where a
  // short list would be (genauth.acceptPartialLists takes a list known to be short).
  if (unreadableCount(body.totalCount)) throw new GenAuthApiError('bad_envelope', { httpStatus: answer.status, envelopeStatus: 200 });
  // A list shorter than its `totalCount` left grants out, one of which may be a DENY (one object is a list of one).
  const total = missingFromList(list.length, body.totalCount);
  if (total === undefined || call.acceptPartialLists) return list;
  call.partialList(list.length, total);
  // An answer too (its statuses, as above): GenAuth's own list, not an outage.
  throw new GenAuthApiError('partial_list', { httpStatus: answer.status, envelopeStatus: 200 });
}

/**
 * The envelope of a grants answer. A body 401/403 with apiCode 2120008 (the user is disabled or not a
 * member of genauth.tenantId's tenant) refuses the user, not the credentials: read as one, every such
 * user's request after a member's replaced the management token (one token request each, and a
 * credentials warning). It fails closed all the same (a 503, never the pool's grants).
 */
function readGrantsEnvelope(answer: UpstreamAnswer, duplicateKeys: boolean | undefined) {
  try {
    return readEnvelope<AuthorizedResourceList>(answer.status, answer.text, answer.retryAfter, duplicateKeys);
  } catch (error) {
    const refusesUser = error instanceof GenAuthApiError && error.kind === 'credentials' && error.apiCode === NOT_A_TENANT_MEMBER_API_CODE;
    // An HTTP 401 or 403 is a gateway's refusal of the credentials, whatever the body says.
    if (!refusesUser || error.httpStatus === 401 || error.httpStatus === 403) throw error;
    const { httpStatus, envelopeStatus, apiCode, retryAfter } = error;
    throw new GenAuthApiError('error_envelope', { httpStatus, envelopeStatus, apiCode, retryAfter });
  }
}
