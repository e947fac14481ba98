/**
 * A scripted JWKS endpoint on loopback, for what the emulator's fixed key set cannot show: rotation,
 * removal, ambiguous keys, wrong `use`/`alg`, malformed sets, outages. It is a real HTTP server the
 * guard fetches with jose's remote key set, like an identity provider's; every request is counted by
 * path, so a test also sees that a token's `jku`/`x5u` is never followed.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { listeningPort } from '../fixtures.js';

/** How the JWKS path answers. */
export type KeyServerAnswer =
  | { kind: 'keys'; keys: JWK[] }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'drop' };

export interface KeyServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `${url}/jwks.json`, the path answered as scripted. */
  readonly jwksUri: string;
  /** Sets the answer of the JWKS path from now on. */
  answer(answer: KeyServerAnswer): void;
  /** Serves these keys (shorthand for `answer({ kind: 'keys', keys })`). */
  keys(keys: JWK[]): void;
  /** Requests received, optionally only those to one path. */
  calls(path?: string): number;
  resetCalls(): void;
  close(): Promise<void>;
}

export async function startKeyServer(initial: JWK[] = []): Promise<KeyServer> {
  let current: KeyServerAnswer = { kind: 'keys', keys: initial };
  const seen: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push(path);
    req.resume();
    if (path !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    const answer = current;
    switch (answer.kind) {
      case 'keys':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: answer.keys }));
        return;
      case 'raw':
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body);
        return;
      case 'hang':
        hanging.add(res);
        return;
      case 'drop':
        req.socket.destroy();
        return;
    }
  });
  const url = `http://127.0.0.1:${await listeningPort(server.listen(0, '127.0.0.1'))}`;
  return {
    url,
    jwksUri: `${url}/jwks.json`,
    answer: (answer) => void (current = answer),
    keys: (keys) => void (current = { kind: 'keys', keys }),
    calls: (path) => (path === undefined ? seen.length : seen.filter((p) => p === path).length),
    resetCalls: () => void (seen.length = 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
