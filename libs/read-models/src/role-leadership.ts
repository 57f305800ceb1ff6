import { answeredWithin } from '@consent-ledger/event-store';
import type { ReadModelStorage } from './storage/read-model-storage';

export interface RoleLeadershipOptions {
  readonly storage: ReadModelStorage;
  /** What is led, e.g. `read-models` or `kafka-publisher`: one holder at a time per role. */
  readonly role: string;
  /** This instance (PROJECTOR_INSTANCE_ID). */
  readonly holder: string;
  /** A crashed leader's role is taken over after at most this long. */
  readonly ttlMs?: number;
  readonly renewEveryMs?: number;
  /**
   * Asked before every attempt: false keeps a standby from bidding, and makes a leader hand the
   * role over (stop, release the lease) so another instance can take it.
   */
  shouldLead?(): boolean;
  onElected(): Promise<void> | void;
  onDeposed(): Promise<void> | void;
  readonly log?: { error(message: string, error?: unknown): void };
  /** Monotonic milliseconds (tests pass their own). */
  readonly now?: () => number;
}

export interface RoleLeadership {
  readonly isLeader: boolean;
  /** Resolves once this instance's first attempt at the lease is over (elected or not). */
  readonly firstAttempt: Promise<void>;
  /**
   * The work found it no longer leads (e.g. a fenced write was refused): it has stopped itself.
   * The next renewal decides afresh; if the lease is still ours, the work starts again.
   */
  stepDown(): void;
  /** Stops leading (if it did) and releases the lease, so a standby takes over at once. */
  stop(): Promise<void>;
  /**
   * Whether the lease is still this instance's for at least `ms` more, by this process's clock:
   * counted from before the last renewal was asked, so never later than the database's expiry.
   * A process paused past its lease (a long GC, a frozen VM) learns here that its role may have
   * moved, before its next renewal tells it so.
   */
  holdsLeaseFor(ms: number): boolean;
}

/**
 * Leader election by lease in the read-model database: the holder renews well before its lease
 * runs out; a standby takes the role once it has. A renewal that fails (even for a lost
 * connection) deposes the leader at once, because it can no longer prove it still holds the role.
 */
export function leadRole(options: RoleLeadershipOptions): RoleLeadership {
  const ttlMs = options.ttlMs ?? 10_000;
  const renewEveryMs = options.renewEveryMs ?? Math.max(100, Math.floor(ttlMs / 3));
  const now = options.now ?? (() => performance.now());
  let isLeader = false;
  let heldUntil = Number.NEGATIVE_INFINITY;
  let isStopped = false;
  let turn: Promise<void> = Promise.resolve();
  let attempting = false;
  // Only hastens a standby's take-over (the lease runs out anyway), so a silent database is not waited on.
  const letLeaseGo = () => answeredWithin(options.storage.releaseLease(options.role, options.holder), ttlMs, () => new Error(`letting the ${options.role} lease go got no answer in ${ttlMs} ms`)).catch(() => undefined);

  const attempt = () => {
    // A renewal waiting on a silent database takes up to the lease's length: the ticks meanwhile
    // would queue one more each, and the leader (and its stop) would work through them one by one.
    if (attempting) return turn;
    attempting = true;
    return (turn = turn.then(async () => {
      if (isStopped) return;
      if (options.shouldLead && !options.shouldLead()) {
        if (isLeader) {
          isLeader = false;
          await Promise.resolve(options.onDeposed()).catch((error: unknown) => options.log?.error(`handing ${options.role} over failed`, error));
          await letLeaseGo();
        }
        return;
      }
      let holds = false;
      const asked = now();
      try {
        // A renewal answered after the lease it asks for would have run out proves nothing, and one
        // sent into a network cut that keeps the connection open waits with the cut: the leader
        // steps down meanwhile, as a standby takes the role once the lease expires.
        holds = await answeredWithin(options.storage.tryLease(options.role, options.holder, ttlMs), ttlMs, () => new Error(`the ${options.role} lease's renewal got no answer in ${ttlMs} ms`));
      } catch (error) {
        options.log?.error(`could not renew the ${options.role} lease`, error);
      }
      heldUntil = holds ? asked + ttlMs : Number.NEGATIVE_INFINITY;
      if (holds && !isLeader) {
        isLeader = true;
        try {
          await options.onElected();
        } catch (error) {
          options.log?.error(`could not start leading ${options.role}; letting the lease go`, error);
          isLeader = false;
          await letLeaseGo();
        }
      } else if (!holds && isLeader) {
        isLeader = false;
        await Promise.resolve(options.onDeposed()).catch((error: unknown) => options.log?.error(`stopping ${options.role} failed`, error));
      }
    }).finally(() => {
      attempting = false;
    }));
  };

  const firstAttempt = attempt();
  const timer = setInterval(() => void attempt(), renewEveryMs);

  return {
    get isLeader() {
      return isLeader;
    },
    firstAttempt,
    stepDown() {
      turn = turn.then(() => {
        isLeader = false;
      });
    },
    holdsLeaseFor(ms: number) {
      return isLeader && now() + ms <= heldUntil;
    },
    async stop() {
      clearInterval(timer);
      await turn;
      isStopped = true;
      if (isLeader) {
        isLeader = false;
        await options.onDeposed();
        await letLeaseGo();
      }
    },
  };
}
