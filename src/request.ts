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
  /**
   * Node's `rawHeaders` (name, value, name, value, ...), to detect a repeated `Authorization` that
   * `headers` folds into one. A plain property, unlike `headersDistinct`, which Node builds anew on
   * every read.
   */
  rawHeaders?: readonly string[];
  /** Peer address of the socket. */
  remoteAddress?: string;
}
