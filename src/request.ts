import type { IncomingHttpHeaders } from 'node:http';

/**
 * The framework-neutral view of a request the core works on. Adapters build it from their framework's
 * request without copying headers.
 */
export interface RequestLike {
  method: string;
  /** The request target as received (path and query), e.g. `req.originalUrl`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Node's `headersDistinct`, to detect repeated headers that `headers` folds. */
  headersDistinct?: Record<string, string[] | undefined>;
  /** Peer address of the socket. */
  remoteAddress?: string;
}
