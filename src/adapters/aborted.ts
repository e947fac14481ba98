/**
 * Whether the client left while the guard waited for a decision (grants from GenAuth, keys to verify
 * the token). Then there is no one to answer, and the route handler must not run: a mutation would be
 * done for nobody.
 */

/**
 * The parts of a Node request read here: HTTP/1 `IncomingMessage`, or HTTP/2 compat request, whose
 * `socket` reports its stream's `destroyed` (a cancelled stream, while the connection lives on).
 */
export interface RawRequestState {
  socket?: { destroyed?: boolean } | null;
}

/** The parts of a Node response (HTTP/1 `ServerResponse`, HTTP/2 compat response) read here. */
export interface RawResponseState {
  writableEnded?: boolean;
  destroyed?: boolean;
  socket?: { destroyed?: boolean } | null;
}

/**
 * True when the client is gone and nothing was written to it. Read after the decision settles, never
 * on the synchronous path. The connection is the witness, not the request: an `IncomingMessage` reads
 * `destroyed` once its body was consumed, a finished response reads `destroyed` too (hence
 * `writableEnded` first: a response something else already ended is not an abort), and a response
 * queued behind others pipelined on its connection has no socket yet, so the request's socket is read.
 */
export function clientGone(req: RawRequestState, res: RawResponseState): boolean {
  if (res.writableEnded === true) return false;
  return res.destroyed === true || (res.socket ?? req.socket)?.destroyed === true;
}
