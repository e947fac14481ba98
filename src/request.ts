import type { IncomingHttpHeaders } from 'node:http';
import type { RouterRules } from './policy/api-options.js';

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
   * Node's `rawHeaders` (name, value, name, value, ...). Where present, the `Authorization` header is read
   * from it, which also detects a repeat that `headers` folds into one. A plain property, unlike
   * `headersDistinct`, which Node builds anew on every read.
   */
  rawHeaders?: readonly string[];
  /** Peer address of the socket. */
  remoteAddress?: string;
  /**
   * How the router that dispatches this request compares paths, as the adapter learned it from the app
   * (API mode matches ALLOW patterns and public paths no wider). Absent: Express's defaults and the
   * API-mode options decide.
   */
  router?: RouterRules;
}

/** A Node request as the adapters receive it; Express adds `originalUrl` (the URL before mounting). */
export interface NodeMessage {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: IncomingHttpHeaders;
  rawHeaders?: readonly string[];
  socket?: { remoteAddress?: string } | null;
}

/**
 * The core's view of a Node request (Express's request, Koa's `ctx.req`, Fastify's `request.raw`), read
 * when asked: the cached path reads only `rawHeaders`, and method, URL and address only when a policy or
 * API mode needs them, because every property read on an Express request is slow (docs/bench.md).
 */
export class NodeRequestView implements RequestLike {
  /**
   * @param target the request target to judge, where the adapter chose it (the path an Express router
   * or a Koa app dispatches, or the full URL under a mount: `routedTarget`); without it, `originalUrl`.
   * @param router the rules of the router that dispatches the request, where the adapter can read them.
   */
  constructor(
    private readonly message: NodeMessage,
    private readonly target?: string,
    readonly router?: RouterRules,
  ) {}

  get method(): string {
    return this.message.method ?? 'GET';
  }

  /**
   * The target to judge, mount prefix included: the one the adapter chose (under a rewrite, the path
   * that runs: `routedTarget`), else `originalUrl`, else `url`.
   */
  get url(): string {
    return this.target ?? this.message.originalUrl ?? this.message.url ?? '';
  }

  get headers(): IncomingHttpHeaders {
    return this.message.headers;
  }

  get rawHeaders(): readonly string[] | undefined {
    return this.message.rawHeaders;
  }

  get remoteAddress(): string | undefined {
    return this.message.socket?.remoteAddress;
  }
}
