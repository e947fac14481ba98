/**
 * The contract between the conformance suite and one adapter. A row builds real apps of its framework
 * on 127.0.0.1, port 0; the suite talks HTTP to them. See conformance.test.ts for the routes every app
 * must define.
 */
import type { ApiModeOptions } from '../../src/core/enforce/api.js';
import type { Guard } from '../../src/core/types.js';
import type { GuardOptions } from '../../src/options.js';
import type { WebhookOptions } from '../../src/webhooks/options.js';

/** A started app. */
export interface RunningApp {
  /** Port on 127.0.0.1. */
  port: number;
  /** Stops the server and closes the guard. */
  close(): Promise<void>;
  /** The core guard behind the app (the adversarial suite invalidates users through it). */
  core: Guard;
  /** Where the webhook route is, when the fixture asked for one (`fixture.webhook`). */
  webhookPath?: string;
}

/** What the suite hands a row's app factory. */
export interface AppFixture {
  /** Guard options pointing at the emulator (the row adds its own adapter options, e.g. none). */
  options: GuardOptions;
  /** Every protected handler calls this when it runs: the suite checks it never runs on a rejection. */
  handled(): void;
  /** When given, receives each line the framework's own logger writes (Fastify's pino, Nest's Logger). */
  log?(line: string): void;
  /** When given, receives each error the framework's error layer gets (e.g. with `passErrors: true`). */
  passed?(error: unknown): void;
  /**
   * When given, the app also mounts the adapter's GenAuth webhook route with these options (a public
   * POST route; Express/Koa/Fastify at `/hooks/genauth`) and returns its path as `webhookPath`.
   */
  webhook?: WebhookOptions;
}

/** What the suite hands a row's API-mode app factory. */
export interface ApiAppFixture extends AppFixture {
  /** Passed to the adapter's API mode unchanged. */
  api: ApiModeOptions;
}

/** One adapter under test: adding an adapter means adding one of these to ROWS. */
export interface AdapterRow {
  /** Shown in test names, e.g. 'Koa 3'. */
  name: string;
  /**
   * Starts the standard app: the routes of STANDARD_ROUTES in conformance.test.ts, each protected with
   * `requirePermission` (or `authenticate`), each handler answering `{ ok: true, user, reason }` as JSON
   * (`user` = identity.userId, `reason` = decision?.reason) after calling `fixture.handled()`.
   */
  start(fixture: AppFixture): Promise<RunningApp>;
  /**
   * Starts the API-mode app: the adapter's `api(fixture.api)` in front of a catch-all handler (every
   * method and path) that calls `fixture.handled()` and answers `{ ok: true, user }` as JSON, `user` =
   * the identity's userId or null on a public path. Omit while the adapter has no API mode.
   */
  startApi?(fixture: ApiAppFixture): Promise<RunningApp>;
}
