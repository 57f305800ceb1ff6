import { EMPTY_STREAM_HEAD, planGroup, settleGroup, type StoredEventLocation, type StreamHead } from '../append-planning';
import { toAppendRequest } from '../append-request';
import { EventStoreUnavailable, StreamRevisionConflict } from '../errors';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  IntegrityReport,
  ListStreamNamesOptions,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RemovalRecord,
  StoreHealth,
  StoredEvent,
  StreamRemoval,
  SubscribeToAllOptions,
  Subscription,
  VerifyOptions,
} from '../event-store.port';
import { START } from '../event-store.port';
import { checkIntegrity } from '../integrity-check';
import { AppendSignal, followLog } from '../polling-subscription';
import { toLogRange, toStreamRange } from '../read-options';
import { assertValidRemoval, recordRemoval } from '../removal-record';
import { compareStreamNames, isInStreamNameRange, toStreamNameRange } from '../stream-name-range';
import { SubscriptionSet } from '../subscription-set';

/**
 * What an in-memory store keeps. Hand the same log to a second store to simulate a restart, or to
 * `rewriteForTests` to tamper with it the way a direct database edit would.
 */
export class InMemoryLog {
  readonly appended = new AppendSignal();
  private events: StoredEvent[] = [];
  private streams = new Map<string, StoredEvent[]>();
  private readonly eventIds = new Map<string, StoredEventLocation>();
  readonly heads = new Map<string, StreamHead>();
  removals: RemovalRecord[] = [];
  lastAssignedPosition: GlobalPosition = START;

  get all(): readonly StoredEvent[] {
    return this.events;
  }

  get streamNames(): Iterable<string> {
    return this.streams.keys();
  }

  stream(streamName: string): readonly StoredEvent[] {
    return this.streams.get(streamName) ?? [];
  }

  locate(eventId: string): StoredEventLocation | undefined {
    return this.eventIds.get(eventId);
  }

  add(rows: readonly StoredEvent[]): void {
    for (const row of rows) {
      this.events.push(row);
      const stream = this.streams.get(row.streamName) ?? [];
      stream.push(row);
      this.streams.set(row.streamName, stream);
      this.eventIds.set(row.eventId, row);
      if (row.position > this.lastAssignedPosition) this.lastAssignedPosition = row.position;
    }
  }

  removeStream(streamName: string): void {
    for (const row of this.stream(streamName)) this.eventIds.delete(row.eventId);
    this.events = this.events.filter((row) => row.streamName !== streamName);
    this.streams.delete(streamName);
    this.heads.delete(streamName);
  }

  /**
   * Test-only stand-in for a direct edit of the database: replaces the stored events as given
   * (re-sorted by position, nothing re-hashed, stream heads left as they were).
   */
  rewriteForTests(edit: (events: StoredEvent[]) => StoredEvent[]): void {
    this.events = edit([...this.events]).sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    this.streams = new Map();
    this.eventIds.clear();
    for (const row of this.events) {
      const stream = this.streams.get(row.streamName) ?? [];
      stream.push(row);
      this.streams.set(row.streamName, stream);
      this.eventIds.set(row.eventId, row);
    }
    for (const stream of this.streams.values()) stream.sort((a, b) => a.revision - b.revision);
  }
}

export interface InMemoryEventStoreOptions {
  /** Share a log between instances to simulate closing and reopening a store. */
  readonly log?: InMemoryLog;
}

/** For fast unit tests only: the same semantics as the durable stores, nothing survives the process. */
export function createInMemoryEventStore(options: InMemoryEventStoreOptions = {}): InMemoryEventStore {
  return new InMemoryEventStore(options.log ?? new InMemoryLog());
}

export class InMemoryEventStore implements EventStore {
  readonly kind = 'in-memory' as const;
  private readonly subscriptions = new SubscriptionSet();
  private isClosed = false;

  constructor(readonly log: InMemoryLog) {}

  async append(
    streamName: string,
    events: readonly NewEvent[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    const request = toAppendRequest(streamName, events, options?.expectedRevision);
    const stored = new Map<string, StoredEventLocation>();
    for (const event of request.events) {
      const location = this.log.locate(event.eventId);
      if (location) stored.set(event.eventId, location);
    }
    const plan = planGroup([request], this.log.heads, stored, new Date().toISOString());
    const firstPosition = this.log.lastAssignedPosition + 1n;
    const positions = plan.rows.map((_, index) => firstPosition + BigInt(index));
    // The canonical texts are how the SQL stores keep data; a stored event here is the port's shape.
    this.log.add(plan.rows.map(({ dataJson: _data, metadataJson: _metadata, ...row }, index) => ({ ...row, position: positions[index] })));
    for (const [name, head] of plan.newHeads) this.log.heads.set(name, head);
    if (plan.rows.length > 0) this.log.appended.notify();

    const [outcome] = settleGroup(plan, positions);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toStreamRange(streamName, options);
    const stream = this.log.stream(streamName);
    const limit = range.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (range.direction === 'forwards') {
      const from = range.fromRevision ?? 0;
      return stream.filter((event) => event.revision >= from).slice(0, limit);
    }
    const from = range.fromRevision ?? Number.MAX_SAFE_INTEGER;
    return stream
      .filter((event) => event.revision <= from)
      .reverse()
      .slice(0, limit);
  }

  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toLogRange(options);
    const all = this.log.all;
    let low = 0;
    let high = all.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (all[middle].position <= range.after) low = middle + 1;
      else high = middle;
    }
    return all.slice(low, low + (range.maxCount ?? Number.MAX_SAFE_INTEGER));
  }

  /** Sorts every name on each call: this store is for tests, whose logs are small. */
  async listStreamNames(options: ListStreamNamesOptions): Promise<string[]> {
    this.assertOpen();
    const range = toStreamNameRange(options);
    return [...this.log.streamNames]
      .filter((name) => isInStreamNameRange(name, range))
      .sort(compareStreamNames)
      .slice(0, range.limit);
  }

  async headPosition(): Promise<GlobalPosition> {
    this.assertOpen();
    return this.log.all.at(-1)?.position ?? START;
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    this.assertOpen();
    return this.subscriptions.track(
      followLog(options, {
        readAll: (range) => this.readAll(range),
        appended: this.log.appended,
        pollIntervalMs: 1000,
      }),
    );
  }

  async verify(options: VerifyOptions = {}): Promise<IntegrityReport> {
    this.assertOpen();
    const streamName = options.streamName;
    const events = streamName === undefined ? [...this.log.all] : [...this.log.stream(streamName)];
    const heads =
      streamName === undefined
        ? new Map(this.log.heads)
        : new Map([...this.log.heads].filter(([name]) => name === streamName));
    return checkIntegrity(
      {
        streamName,
        events: async function* () {
          yield events;
        },
        streamEvents: async (name) => [...this.log.stream(name)],
        removals: [...this.log.removals],
        heads,
        lastAssignedPosition: this.log.lastAssignedPosition,
      },
      options.onProgress,
    );
  }

  async removeStream(streamName: string, removal: StreamRemoval): Promise<void> {
    this.assertOpen();
    assertValidRemoval(streamName, removal);
    const events = this.log.stream(streamName);
    if (events.length === 0) return;
    const head = this.log.heads.get(streamName) ?? EMPTY_STREAM_HEAD;
    if (removal.expectedRevision !== undefined && head.revision !== removal.expectedRevision) {
      throw new StreamRevisionConflict(streamName, removal.expectedRevision, head.revision);
    }
    const record = recordRemoval(
      this.log.removals.at(-1),
      { streamName, lastRevision: head.revision, positions: events.map((event) => event.position), lastHash: head.hash },
      removal,
    );
    this.log.removeStream(streamName);
    this.log.removals.push(record);
  }

  /** A scan of every removal: this store is for tests, whose logs are small. */
  async readRemovals(streamName: string): Promise<RemovalRecord[]> {
    this.assertOpen();
    return this.log.removals.filter((removal) => removal.streamName === streamName);
  }

  async health(): Promise<StoreHealth> {
    return this.isClosed ? { ready: false, detail: 'store is closed' } : { ready: true };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.subscriptions.closeAll();
    this.isClosed = true;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreUnavailable('the in-memory event store is closed');
  }
}
