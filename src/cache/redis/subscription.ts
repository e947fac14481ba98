/**
 * The invalidation subscription: Pub/Sub on a duplicate of the user's client (a subscribed connection
 * can do nothing else). When it drops, messages published meanwhile are lost, so every local grant
 * and verified token may be one that was revoked: once the subscription is provably back, the
 * instance drops them all (`resync`). Provably: the instance publishes a probe and waits to receive
 * it, which holds for a client or a cluster client whichever node the subscription moved to. A probe
 * that cannot be published (Redis away), or probes that never come back, count as lost contact too:
 * the subscription is set up again on a fresh connection, whose SUBSCRIBE answer proves it live, and
 * the instance resyncs then. So the probes in flight stay few.
 *
 * A probe or heartbeat Redis's ACL refuses (NOPERM: the user may not PUBLISH on the channel) is a
 * set-up problem, not lost contact: a fresh connection would be refused alike, and with the heartbeat
 * on, each one would be dropped again at the next beat and every local grant dropped with it. So it is
 * told once (health.refused), the subscription, which nothing can prove, stays down (the rules of a
 * lost one apply: `redisMaxUnsubscribed`, and the reads of revocation records), and the probes resume
 * on a slow backoff: once the ACL allows PUBLISH, one is heard and the instance resyncs, once. Without
 * the heartbeat, a SUBSCRIBE answer is the only proof asked for: the fresh subscription, once per loss.
 * A SUBSCRIBE the ACL refuses is told likewise, and tried again on that slow backoff.
 *
 * A connection can also die with no event at all (a NAT, firewall or load balancer drops the flow, the
 * peer vanishes without FIN or RST): the client still believes it is subscribed and hears nothing.
 * So while live the instance sends itself a heartbeat (a probe, as other instances and older versions
 * already read and ignore) every `heartbeat` ms; one not heard back when the next is due is a loss like
 * any other: the probes above follow, and then a fresh subscription and a resync.
 */
import { randomUUID } from 'node:crypto';
import { bounded, failureOf, withinDeadline } from './bounded.js';
import type { RedisSubscriberClient, RedisTierClient } from './client.js';
import type { TierHealth } from './health.js';
import { decodeMessage, encodeMessage } from './messages.js';

/** What the instance does with what it hears. */
export interface InvalidationHandlers {
  user(userId: string): void;
  all(): void;
  /** Another instance revoked the user's tokens issued at or before `at` (ms since the epoch). */
  revoked(userId: string, at: number): void;
  /** The subscription dropped: messages published from now until `resync` may never arrive. */
  lost(): void;
  /** The subscription is up (first time) or back after a drop: drop every local grant and verified token. */
  resync(): void;
}

export interface Subscription {
  close(): void;
}

export interface SubscriptionSettings {
  client: RedisTierClient;
  channel: string;
  /** This instance's id, in every message it sends. */
  instance: string;
  handlers: InvalidationHandlers;
  health: TierHealth;
  timeout: number;
  /** How often a heartbeat is sent while live (ms), each to be heard back before the next; false: none. */
  heartbeat: number | false;
}

/** How often a probe is sent while the subscription is not known to be live (ms). */
const PROBE_INTERVAL_MS = 250;
/**
 * Probes left unanswered (about 5 s of them) before the subscription is set up again: however the
 * subscription is lost, this instance remembers no more probe ids than this.
 */
export const MAX_UNANSWERED_PROBES = 20;
/**
 * The longest a set-up (connecting the fresh connection, then SUBSCRIBE answered) may take before it
 * is given up and tried again (ms): at least this, or the heartbeat interval or twice `timeout` when
 * longer. A flow dropped silently during the set-up raises no event, and nothing else would end it.
 */
const MIN_SETUP_MS = 5000;
/** Waits between attempts to set the subscription up (ms). */
const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** Waits before probing again (or setting up again) after Redis's ACL refused PUBLISH (or SUBSCRIBE) (ms). */
const REFUSED_RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];
/** Client (and cluster client) events that mean the subscription may have missed messages. */
const LOSS_EVENTS = ['error', 'reconnecting', 'end', 'node-error', 'node-reconnecting', 'node-disconnect'];

export function subscribeToInvalidations(settings: SubscriptionSettings): Subscription {
  const { client, channel, instance, handlers, health } = settings;
  const setupMs = Math.max(MIN_SETUP_MS, 2 * settings.timeout, settings.heartbeat === false ? 0 : settings.heartbeat);
  let closed = false;
  /** The duplicate being connected or holding the subscription (closed with the guard). */
  let current: RedisSubscriberClient | undefined;
  let subscriber: RedisSubscriberClient | undefined;
  let live = false;
  let probing: ReturnType<typeof setInterval> | undefined;
  /** Probes sent since the last loss: one of them coming back proves the subscription is live. */
  const probes = new Set<string>();
  /** The heartbeat sent and not heard back yet (while live). */
  let beat: string | undefined;
  let beating: ReturnType<typeof setInterval> | undefined;
  /** While PUBLISH is refused: the wait before probing again, and how many such waits in a row. */
  let retrying: ReturnType<typeof setTimeout> | undefined;
  let refusals = 0;

  function onMessage(text: string): void {
    const message = decodeMessage(text);
    if (message === undefined) return;
    if (message.from === instance) {
      if (!('probe' in message)) return;
      if (probes.has(message.probe)) confirmed();
      else if (message.probe === beat) beat = undefined;
      return;
    }
    if ('user' in message) handlers.user(message.user);
    else if ('all' in message) handlers.all();
    else if ('revoked' in message) handlers.revoked(message.revoked, message.at);
  }

  function confirmed(): void {
    probes.clear();
    stopProbing();
    refusals = 0;
    beat = undefined;
    live = true;
    handlers.resync();
    health.subscribed(true);
  }

  function startProbing(): void {
    if (probing !== undefined) return;
    probing = setInterval(sendProbe, PROBE_INTERVAL_MS);
    probing.unref?.();
  }

  function stopProbing(): void {
    if (probing !== undefined) clearInterval(probing);
    probing = undefined;
  }

  /** Publishes a probe of this instance's (within the Redis deadline): a probe, or a heartbeat. */
  function publishProbe(probe: string): Promise<unknown> {
    return bounded(client, settings.timeout, () => client.publish(channel, encodeMessage({ from: instance, probe })), 'PUBLISH');
  }

  /** Whether a publish failed on the ACL (told once more as a set-up problem) rather than on Redis. */
  function refusedBy(error: unknown): boolean {
    if (failureOf(error) !== 'denied') return false;
    health.refused('PUBLISH');
    return true;
  }

  function sendProbe(): void {
    if (probes.size >= MAX_UNANSWERED_PROBES) return renew();
    const probe = randomUUID();
    const from = subscriber;
    probes.add(probe);
    publishProbe(probe).catch((error: unknown) => {
      const denied = refusedBy(error);
      if (subscriber !== from || live) return;
      // Refused by the ACL, with the heartbeat on: a fresh subscription would be dropped at the next beat.
      if (denied && settings.heartbeat !== false) return refused();
      // Not published (or not in time): nothing proves the subscription back but a new one.
      renew();
    });
  }

  /**
   * PUBLISH refused while the subscription is down: it stays down (nothing can prove it), and probing
   * resumes after a wait that grows, so a fixed ACL is noticed and nothing is dropped meanwhile.
   */
  function refused(): void {
    stopProbing();
    probes.clear();
    if (closed || retrying !== undefined) return;
    const wait = REFUSED_RETRY_MS[Math.min(refusals++, REFUSED_RETRY_MS.length - 1)] as number;
    retrying = setTimeout(() => {
      retrying = undefined;
      if (!closed && !live && subscriber !== undefined) startProbing();
    }, wait);
    retrying.unref?.();
  }

  /**
   * The subscription cannot be proved back by probes: the subscriber is dropped and the subscription
   * set up again (start), which resyncs once SUBSCRIBE is answered. Health stays down meanwhile.
   */
  function renew(): void {
    const old = subscriber;
    if (closed || live || old === undefined) return;
    subscriber = undefined;
    probes.clear();
    stopProbing();
    destroyQuietly(old);
    void start(0, true);
  }

  /**
   * The heartbeat's tick, while live: the last one not heard back (not published, or published and
   * never delivered) is a loss; else the next is sent.
   */
  function heartbeat(): void {
    if (closed || !live || subscriber === undefined) return;
    if (beat === undefined) return sendBeat();
    // Not heard yet, or heard and not read: after the loop was held past the interval (a GC pause, a
    // long synchronous task), Node runs the overdue tick before it reads the sockets, where the echo
    // may wait. So the verdict waits one turn: a setImmediate runs once they are read.
    const unheard = beat;
    setImmediate(() => {
      if (closed || !live || subscriber === undefined) return;
      if (beat === unheard) return lost();
      if (beat === undefined) sendBeat();
    }).unref?.();
  }

  /** Sends the next heartbeat, to be heard back before the tick after. */
  function sendBeat(): void {
    const sent = (beat = randomUUID());
    const from = subscriber;
    publishProbe(sent).catch((error: unknown) => {
      // Refused by the ACL: the subscription cannot be proved from now on (a set-up problem, said once).
      if (refusedBy(error) && subscriber === from && live && beat === sent) {
        lost(true);
        refused();
      }
      // Otherwise not published: it will not be heard back, and the next tick says so.
    });
  }

  /**
   * A loss seen on the subscriber (or a heartbeat unheard): probe until the subscription is provably
   * back. `refusedByAcl`: the heartbeat's PUBLISH was refused by the ACL (a set-up problem, not an outage).
   */
  function lost(refusedByAcl = false): void {
    if (closed || subscriber === undefined) return;
    beat = undefined;
    probes.clear();
    if (live) {
      health.unsubscribed(refusedByAcl);
      handlers.lost();
    }
    live = false;
    // While PUBLISH is refused, the backoff resumes the probes.
    if (retrying === undefined) startProbing();
  }

  /** Set-ups started: one that a later one superseded (renew) or close ended leaves every shared state alone. */
  let setups = 0;

  /** `resync`: set up again after a loss (the health event says `resynced`). */
  async function start(attempt: number, resync = false): Promise<void> {
    if (closed) return;
    const setup = ++setups;
    const superseded = () => closed || setup !== setups;
    let candidate: RedisSubscriberClient | undefined;
    try {
      const own = (candidate = current = client.duplicate());
      // Background work, like the probe and retry timers: it never holds the process, so an app that
      // closes its own client but forgot guard.close() still exits.
      own.unref?.();
      // node-redis requires an error listener; every loss event starts the probes once subscribed
      // (a subscriber dropped by renew is no longer the subscriber: its events are ignored).
      for (const event of LOSS_EVENTS) own.on(event, () => {
        if (subscriber === own) lost();
      });
      await withinDeadline(setupMs, () => own.connect());
      if (superseded()) throw new Error('superseded');
      subscriber = candidate;
      await withinDeadline(setupMs, () => own.subscribe(channel, onMessage), 'SUBSCRIBE');
      if (superseded()) throw new Error('superseded');
    } catch (error) {
      if (superseded()) return destroyQuietly(candidate);
      subscriber = undefined;
      stopProbing();
      destroyQuietly(candidate);
      // Refused by the ACL: told as a set-up problem (not as an outage), and tried again on the slow backoff.
      const denied = failureOf(error) === 'denied';
      health.failed('subscription', denied);
      if (denied) health.refused('SUBSCRIBE');
      const ladder = denied ? REFUSED_RETRY_MS : RETRY_MS;
      const wait = ladder[Math.min(attempt, ladder.length - 1)] as number;
      await new Promise((resolve) => setTimeout(resolve, wait).unref?.());
      return start(attempt + 1, resync);
    }
    if (probing !== undefined) return; // a loss while SUBSCRIBE was answered: the probes decide
    beat = undefined;
    live = true;
    handlers.resync();
    health.subscribed(resync);
  }

  if (settings.heartbeat !== false) {
    beating = setInterval(heartbeat, settings.heartbeat);
    beating.unref?.();
  }
  void start(0);
  return {
    close() {
      closed = true;
      stopProbing();
      clearTimeout(retrying);
      clearInterval(beating);
      destroyQuietly(current);
      current = subscriber = undefined;
    },
  };
}

/** Closes a subscriber connection, if any; one already closed throws, and that is its state already. */
function destroyQuietly(connection: RedisSubscriberClient | undefined): void {
  try {
    connection?.destroy();
  } catch {
    // already closed
  }
}
