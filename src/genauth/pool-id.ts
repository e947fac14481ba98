/**
 * A user pool id as compared: without surrounding whitespace, lower-cased. GenAuth's pool ids are hex
 * object ids, which have no case: two spellings that differ only so name one pool. The management
 * token's `scoped_userpool_id` and the pools a webhook delivery names are held to `genauth.userPoolId`
 * by it.
 */
export function poolIdKey(id: string): string {
  return id.trim().toLowerCase();
}
