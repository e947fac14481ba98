// A loopback TCP hop in front of redis-server that can go silent the way a dropped flow does (a NAT,
// firewall or load balancer forgets it; the peer vanishes without FIN or RST): `stallSubscribers()`
// stops forwarding bytes, both ways, on every open connection that has sent SUBSCRIBE, and keeps both
// of its sockets open. The client sees no error, no close, no event: only silence. New connections
// are forwarded as usual (a reconnect gets through, as a fresh flow would), except that
// `stallNextSubscribe()` silences the next connection to send SUBSCRIBE before that SUBSCRIBE is
// forwarded (a fresh flow dropped just after its handshake: its SUBSCRIBE is never answered).
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface StallingProxy {
  readonly port: number;
  /** Connections that sent SUBSCRIBE and are open now: stalled from now on; returns how many. */
  stallSubscribers(): number;
  /** The next connection to send SUBSCRIBE is stalled before it is forwarded (once). */
  stallNextSubscribe(): void;
  close(): Promise<void>;
}

interface Hop {
  client: Socket;
  server: Socket;
  subscriber: boolean;
  stalled: boolean;
}

export async function startStallingProxy(targetPort: number): Promise<StallingProxy> {
  const hops = new Set<Hop>();
  let stallNext = false;
  const proxy = createServer((client) => {
    const server = connect(targetPort, '127.0.0.1');
    const hop: Hop = { client, server, subscriber: false, stalled: false };
    hops.add(hop);
    client.on('data', (chunk: Buffer) => {
      if (/subscribe/i.test(chunk.toString('latin1'))) {
        hop.subscriber = true;
        if (stallNext) {
          stallNext = false;
          hop.stalled = true;
        }
      }
      if (!hop.stalled) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!hop.stalled) client.write(chunk);
    });
    const end = () => {
      hops.delete(hop);
      client.destroy();
      server.destroy();
    };
    client.on('close', end);
    server.on('close', end);
    client.on('error', end);
    server.on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    stallSubscribers() {
      let stalled = 0;
      for (const hop of hops) {
        if (hop.subscriber && !hop.stalled) {
          hop.stalled = true;
          stalled++;
        }
      }
      return stalled;
    },
    stallNextSubscribe() {
      stallNext = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const hop of hops) {
          hop.client.destroy();
          hop.server.destroy();
        }
        hops.clear();
        proxy.close(() => resolve());
      }),
  };
}
