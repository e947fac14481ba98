import type { AuthorizedResource } from '../wire.js';

// The wire types several layers share live in src/wire.ts; the client's code keeps importing them here.
export type { AuthorizedResource, Effect, PolicyCondition, ResourceType, UserIdType } from '../wire.js';

/** The V3 response envelope. */
export interface Envelope<T> {
  statusCode: number;
  message?: string;
  apiCode?: number;
  requestId?: string;
  data?: T;
}

/** The `data` of `get-user-authorized-resources`: one page of entries and how many there are in all. */
export interface AuthorizedResourceList {
  totalCount: number;
  list: AuthorizedResource[];
}
