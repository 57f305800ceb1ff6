import type { AppendRequest } from './append-request';
import { EventStoreUnavailable } from './errors';
import type { AppendResult } from './event-store.port';

/** Writes one group in one transaction; the i-th outcome answers the i-th append. */
export type GroupWriter = (group: readonly AppendRequest[]) => Promise<ReadonlyArray<AppendResult | Error>>;

export interface GroupCommitOptions {
  /** Transactions in flight at once. A second one prepares while the first waits for its commit. */
  readonly maxGroupsInFlight: number;
  /** Caps the size of one transaction; a single larger append still goes alone. */
  readonly maxEventsPerGroup: number;
  /** Caps the JSON characters of one transaction, for the same reason. */
  readonly maxPayloadPerGroup: number;
  /**
   * `when-idle` starts a group as soon as a transaction slot is free (asynchronous drivers: appends
   * pile up while a commit is in flight). `next-turn` waits one event-loop turn first, so that the
   * callers of a synchronous driver, which never overlap a commit, still share a transaction.
   */
  readonly collect: 'when-idle' | 'next-turn';
}

interface PendingAppend {
  readonly request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: Error): void;
}

/**
 * Group commit: appends that arrive while a transaction is being written are queued and written
 * together in the next one, so many writers share one durable commit instead of each paying for
 * its own. Every append still gets its own result or error.
 */
export class GroupCommitQueue {
  private readonly waiting: PendingAppend[] = [];
  /** Number of appends in each group being written. */
  private readonly inFlight: number[] = [];
  /**
   * Streams with an append in a group being written. A later append to one of them waits for that
   * group: two transactions racing for one stream would apply its appends in whichever order
   * reached the database first, not the order they were made.
   */
  private readonly streamsInFlight = new Map<string, number>();
  private isTurnScheduled = false;
  /** Set from a group's end to the next turn, while the callers it answered append again. */
  private isCollecting = false;
  private whenIdle: Array<() => void> = [];

  constructor(
    private readonly writeGroup: GroupWriter,
    private readonly options: GroupCommitOptions,
  ) {}

  enqueue(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every queued append has been answered. */
  drain(): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenIdle.push(resolve));
  }

  private schedule(): void {
    if (this.isCollecting) return;
    if (this.options.collect === 'when-idle') {
      this.startGroups();
      return;
    }
    if (this.isTurnScheduled) return;
    this.isTurnScheduled = true;
    setImmediate(() => {
      this.isTurnScheduled = false;
      this.startGroups();
    });
  }

  /**
   * With a group in flight, a free slot waits until as many appends are queued as that group holds
   * (or until it finishes); from idle, the queue is split evenly over the slots. Otherwise
   * closed-loop writers settle into lopsided pairs, a group of one beside a group of everyone
   * else, and the second transaction in flight gains nothing.
   */
  private startGroups(): void {
    while (this.inFlight.length < this.options.maxGroupsInFlight && this.waiting.length > 0) {
      const ready = this.waiting.filter((pending) => !this.streamsInFlight.has(pending.request.streamName)).length;
      if (ready === 0) return;
      if (this.inFlight.length > 0 && ready < Math.min(...this.inFlight)) return;
      const share = this.inFlight.length === 0 ? Math.ceil(ready / this.options.maxGroupsInFlight) : ready;
      const group = this.takeGroup(share);
      this.inFlight.push(group.length);
      for (const { request } of group) this.streamsInFlight.set(request.streamName, (this.streamsInFlight.get(request.streamName) ?? 0) + 1);
      void this.write(group).finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(group.length), 1);
        for (const { request } of group) {
          const left = this.streamsInFlight.get(request.streamName)! - 1;
          if (left === 0) this.streamsInFlight.delete(request.streamName);
          else this.streamsInFlight.set(request.streamName, left);
        }
        // The callers just answered often append again at once: wait one turn so they join the
        // next group instead of one of them starting a group of one.
        this.isCollecting = true;
        setImmediate(() => {
          this.isCollecting = false;
          if (this.waiting.length > 0) this.startGroups();
          else if (this.inFlight.length === 0) this.notifyIdle();
        });
      });
    }
  }

  /** The first appends ready to go (none of their streams in flight), in the order they were made. */
  private takeGroup(atMost: number): PendingAppend[] {
    const group: PendingAppend[] = [];
    const left: PendingAppend[] = [];
    let events = 0;
    let payload = 0;
    let isFull = false;
    for (const pending of this.waiting) {
      const { request } = pending;
      if (isFull || this.streamsInFlight.has(request.streamName)) {
        left.push(pending);
        continue;
      }
      events += request.events.length;
      payload += request.payloadLength;
      if (group.length > 0 && (events > this.options.maxEventsPerGroup || payload > this.options.maxPayloadPerGroup)) {
        isFull = true;
        left.push(pending);
        continue;
      }
      group.push(pending);
      isFull = group.length >= atMost;
    }
    this.waiting.splice(0, this.waiting.length, ...left);
    return group;
  }

  private async write(group: PendingAppend[]): Promise<void> {
    try {
      const outcomes = await this.writeGroup(group.map((pending) => pending.request));
      group.forEach((pending, index) => {
        const outcome = outcomes[index];
        if (outcome instanceof Error) pending.reject(outcome);
        else pending.resolve(outcome);
      });
    } catch (error) {
      if (group.length === 1 || error instanceof EventStoreUnavailable) {
        for (const pending of group) pending.reject(error as Error);
        return;
      }
      // The store is reachable, so the failure may come from one append's content: write them one
      // by one, in order, so that only the culprit fails.
      for (const pending of group) await this.write([pending]);
    }
  }

  private notifyIdle(): void {
    const waiters = this.whenIdle;
    this.whenIdle = [];
    for (const resolve of waiters) resolve();
  }
}
