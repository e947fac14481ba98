// Demos listen on PORT (3000 by default). When another program holds that port, a demo takes a free one
// and says so, rather than dying with EADDRINUSE.
import { createServer } from 'node:http';

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Serves `handler` on loopback at `port`, or at a free port when `port` is busy; returns the server. */
export async function listenOrFallBack(handler, port) {
  const server = createServer(handler);
  try {
    await listen(server, port, '127.0.0.1');
  } catch (error) {
    if (error?.code !== 'EADDRINUSE') throw error;
    await listen(server, 0, '127.0.0.1');
    console.log(`Port ${port} is busy, so the demo listens on port ${server.address().port} instead (set PORT to choose one).\n`);
  }
  return server;
}
