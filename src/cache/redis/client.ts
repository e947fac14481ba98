/**
 * What the shared tier needs of a Redis client: the few methods of node-redis (`redis` v6) that it
 * calls, typed structurally so the package's types never import `redis` (an optional peer) and both
 * `createClient()` and `createCluster()` fit.
 */

/** A Pub/Sub listener: the message and its channel (node-redis passes strings unless told otherwise). */
export type RedisMessageListener = (message: string, channel: string) => void;

/**
 * A node-redis v6 client, `createClient()` or `createCluster()`, that you create, configure (TLS, ACL,
 * Sentinel, Cluster) and connect, and attach an `error` listener to (node-redis requires one). The
 * guard never connects or closes it; it calls `eval`, `get` and `publish` on it, and `duplicate()`s it
 * once for its Pub/Sub subscription, which it connects and closes itself.
 */
export interface RedisTierClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  duplicate(): RedisSubscriberClient;
  /** node-redis: false while connecting or reconnecting; the tier skips Redis then. */
  readonly isReady?: boolean;
}

/** The duplicate that holds the subscription (a client, or a cluster client). */
export interface RedisSubscriberClient {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: RedisMessageListener): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy(): void;
  /** node-redis clients: lets the process exit while the connection is open (a cluster client has none). */
  unref?(): void;
}

const REQUIRED_METHODS = ['eval', 'get', 'publish', 'duplicate'] as const;

/** True for an object with the methods the tier calls (a node-redis v6 client or cluster client). */
export function isRedisTierClient(value: unknown): value is RedisTierClient {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Record<string, unknown>;
  return REQUIRED_METHODS.every((name) => typeof client[name] === 'function');
}
