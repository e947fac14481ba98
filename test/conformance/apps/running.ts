/** What every row's app factory ends with: the started server and its guard as a {@link RunningApp}. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Guard } from '../../../src/core/types.js';
import type { RunningApp } from '../row.js';

/** Resolves once `server` (told to listen on 127.0.0.1, port 0) listens; `close()` stops it, then the guard. */
export async function runningApp(server: Server, core: Guard, webhookPath?: string): Promise<RunningApp> {
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    core,
    ...(webhookPath === undefined ? {} : { webhookPath }),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await core.close();
    },
  };
}
