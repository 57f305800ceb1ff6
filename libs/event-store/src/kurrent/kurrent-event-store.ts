import {
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  KurrentDBClient,
  NO_STREAM,
  START as FROM_START,
  StreamDeletedError,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { EMPTY_STREAM_HEAD, planGroup, type StoredEventLocation, type StreamHead } from '../append-planning';
import { toAppendRequest, type AppendRequest } from '../append-request';
import { EventStoreUnavailable, failureClassesOf, StreamRevisionConflict } from '../errors';
import {
  START,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type IntegrityReport,
  type ListStreamNamesOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RemovalRecord,
  type StoreHealth,
  type StoredEvent,
  type StreamRemoval,
  type SubscribeToAllOptions,
  type Subscription,
  type VerifyOptions,
} from '../event-store.port';
import { checkIntegrity } from '../integrity-check';
import { toLogRange, toStreamRange } from '../read-options';
import { assertValidRemoval, recordRemoval } from '../removal-record';
import { StreamNameWalk, toStreamNameRange } from '../stream-name-range';
import { SubscriptionSet } from '../subscription-set';
import {
  asUnavailable,
  CHAIN_METADATA_KEY,
  REMOVALS_STREAM,
  toEventData,
  toRemovalEventData,
  toRemovalRecord,
  toStoredEvent,
} from './kurrent-records';
import { followAll } from './kurrent-subscription';

export interface KurrentEventStoreOptions {
  /** A `kurrentdb://` connection string with admin credentials: `$all` reads and subscriptions need them. */
  readonly url: string;
}

/**
 * How far back an append looks for its own event ids when the caller did not say where the stream
 * was ('any', 'stream-exists'): KurrentDB itself only promises idempotency with an exact revision.
 */
const RETRY_LOOKBACK = 500;
const ATTEMPTS_PER_APPEND = 5;
const PAGE_SIZE = 500;

export function connectKurrentEventStore(options: KurrentEventStoreOptions): KurrentEventStore {
  return new KurrentEventStore(KurrentDBClient.connectionString(options.url));
}

/**
 * Streams per subject, `$all` (without system events) as the global log. Positions are `$all`
 * commit positions: increasing, not dense. A removed stream is tombstoned, so it cannot be written
 * again, and its events are hidden from reads of the global log until a scavenge deletes them.
 */
export class KurrentEventStore implements EventStore {
  readonly kind = 'kurrentdb' as const;
  private readonly subscriptions = new SubscriptionSet();
  private removals: RemovalRecord[] = [];
  private readonly removedStreams = new Set<string>();
  /** The walk through each prefix's names under way (see `listStreamNames`). */
  private readonly nameWalks = new Map<string, StreamNameWalk>();
  private readonly removalsByStream = new Map<string, RemovalRecord[]>();
  private removalsRead: Promise<void> = Promise.resolve();
  private readonly appendsInFlight = new Map<string, Promise<unknown>>();
  private isClosed = false;

  constructor(private readonly client: KurrentDBClient) {}

  async append(
    streamName: string,
    events: readonly NewEvent[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    const request = toAppendRequest(streamName, events, options?.expectedRevision);
    for (const event of request.events) {
      if (CHAIN_METADATA_KEY in event.metadata) throw new TypeError(`metadata key ${CHAIN_METADATA_KEY} is reserved by the event store`);
    }
    return this.afterEarlierAppendsTo(streamName, () => this.appendNow(request));
  }

  private async appendNow(request: AppendRequest): Promise<AppendResult> {
    const { streamName } = request;
    try {
      for (let attempt = 1; ; attempt += 1) {
        const head = await this.headOf(streamName);
        const stored = await this.earlierCopies(request, head);
        const plan = planGroup([request], new Map([[streamName, head]]), stored, new Date().toISOString());
        const [outcome] = plan.outcomes;
        if (outcome.kind === 'rejected') throw outcome.error;
        if (outcome.kind === 'already-stored') return outcome.result;
        try {
          // Always an exact expected revision: the previous hash was read at that revision, and
          // KurrentDB only guarantees idempotency by event id when it gets one.
          await this.client.appendToStream(streamName, plan.rows.map(toEventData), {
            streamState: head.revision === -1 ? NO_STREAM : BigInt(head.revision),
          });
        } catch (error) {
          if (error instanceof WrongExpectedVersionError && attempt < ATTEMPTS_PER_APPEND) continue;
          if (error instanceof WrongExpectedVersionError) {
            throw new StreamRevisionConflict(streamName, request.expectedRevision, Number(error.actualState === NO_STREAM ? -1 : error.actualState));
          }
          throw error;
        }
        const written = await this.readStream(streamName, { fromRevision: head.revision + 1, maxCount: plan.rows.length });
        if (written.length !== plan.rows.length) throw new EventStoreUnavailable(`cannot read back the append to ${streamName}`);
        return {
          streamName,
          events: written.map(({ eventId, revision, position }) => ({ eventId, revision, position })),
          nextExpectedRevision: written[written.length - 1].revision,
          position: written[written.length - 1].position,
          // The server answers an identical retry with success and keeps the first copy.
          deduplicated: written[0].hash !== plan.rows[0].hash,
        };
      }
    } catch (error) {
      // A tombstoned stream can never be written again on KurrentDB: no expected revision can succeed.
      if (error instanceof StreamDeletedError) {
        throw new StreamRevisionConflict(streamName, request.expectedRevision, -1);
      }
      throw asUnavailable(error, `cannot append to ${streamName}`);
    }
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toStreamRange(streamName, options);
    if (range.maxCount === 0) return [];
    const fromRevision = range.fromRevision === undefined ? (range.direction === 'forwards' ? FROM_START : END) : BigInt(range.fromRevision);
    try {
      return await this.collect(
        this.client.readStream(streamName, {
          direction: range.direction === 'forwards' ? FORWARDS : BACKWARDS,
          fromRevision,
          maxCount: range.maxCount ?? Number.MAX_SAFE_INTEGER,
        }),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return [];
      throw asUnavailable(error, `cannot read ${streamName}`);
    }
  }

  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toLogRange(options);
    const wanted = range.maxCount ?? Number.MAX_SAFE_INTEGER;
    try {
      await this.refreshRemovals();
      const found: StoredEvent[] = [];
      let after = range.after;
      while (found.length < wanted) {
        const page = await this.collect(
          this.client.readAll({
            fromPosition: after === START ? FROM_START : { commit: after, prepare: after },
            direction: FORWARDS,
            maxCount: PAGE_SIZE,
            filter: excludeSystemEvents(),
          }),
        );
        // fromPosition is inclusive on reads, exclusive in the port.
        const fresh = page.filter((event) => event.position > after);
        found.push(...fresh.filter((event) => this.isInLog(event)));
        if (page.length < PAGE_SIZE || fresh.length === 0) break;
        after = fresh[fresh.length - 1].position;
      }
      return found.slice(0, wanted);
    } catch (error) {
      throw asUnavailable(error, 'cannot read $all');
    }
  }

  /**
   * KurrentDB keeps no index of stream names this client can walk (`$streams` needs the system
   * projections, lists every stream and knows nothing of removals). So a page that begins a walk
   * through a prefix (no `after`, or one no page of the walk under way ended at) reads `$all` from
   * its start, the server skipping streams without the prefix, and keeps every name it found: the
   * walk's next pages come from them, less the streams removed since (`StreamNameWalk`). A walk
   * through every subject (the retention job's, 1,000 a page) thus costs one scan of the log and
   * holds every subject's name until its last page, about a gigabyte for ten million, instead of a scan per
   * page. Not run here: no KurrentDB server can be installed on these machines.
   */
  async listStreamNames(options: ListStreamNamesOptions): Promise<string[]> {
    this.assertOpen();
    const range = toStreamNameRange(options);
    try {
      await this.refreshRemovals();
      const isRemoved = (name: string) => this.removedStreams.has(name);
      const walk = this.nameWalks.get(range.prefix) ?? new StreamNameWalk();
      const continued = walk.continued(range, isRemoved);
      if (continued) return continued;
      const found = new Set<string>();
      const reading = this.client.readAll({
        direction: FORWARDS,
        fromPosition: FROM_START,
        filter: range.prefix === '' ? excludeSystemEvents() : streamNameFilter({ prefixes: [range.prefix] }),
      });
      for await (const resolved of reading) {
        const name = resolved.event?.streamId;
        if (name !== undefined && name !== REMOVALS_STREAM && name.startsWith(range.prefix)) found.add(name);
      }
      this.nameWalks.set(range.prefix, walk);
      return walk.start(range, found, isRemoved);
    } catch (error) {
      throw asUnavailable(error, `cannot list the streams named ${range.prefix}*`);
    }
  }

  async headPosition(): Promise<GlobalPosition> {
    this.assertOpen();
    try {
      await this.refreshRemovals();
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: END, filter: excludeSystemEvents() })) {
        const event = toStoredEvent(resolved);
        if (event && this.isInLog(event)) return event.position;
      }
      return START;
    } catch (error) {
      throw asUnavailable(error, 'cannot read the head of $all');
    }
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    this.assertOpen();
    return this.subscriptions.track(
      followAll(this.client, options, {
        isInLog: (event) => this.isInLog(event),
        observe: (event) => {
          if (event.streamName !== REMOVALS_STREAM) return;
          this.removedStreams.add(String(event.data.streamName));
        },
        resubscribeDelayMs: 1000,
      }),
    );
  }

  async verify(options: VerifyOptions = {}): Promise<IntegrityReport> {
    this.assertOpen();
    await this.refreshRemovals();
    const { streamName } = options;
    const store = this;
    return checkIntegrity(
      {
        streamName,
        removals: [...this.removals],
        async *events() {
          if (streamName !== undefined) {
            yield await store.readStream(streamName);
            return;
          }
          let after = START;
          for (;;) {
            const page = await store.readAll({ after, maxCount: PAGE_SIZE });
            if (page.length === 0) return;
            yield page;
            after = page[page.length - 1].position;
          }
        },
        streamEvents: (name) => store.readStream(name),
      },
      options.onProgress,
    );
  }

  async removeStream(streamName: string, removal: StreamRemoval): Promise<void> {
    this.assertOpen();
    assertValidRemoval(streamName, removal);
    try {
      const events = await this.readStream(streamName);
      if (events.length === 0) return;
      const last = events[events.length - 1];
      if (removal.expectedRevision !== undefined && last.revision !== removal.expectedRevision) {
        throw new StreamRevisionConflict(streamName, removal.expectedRevision, last.revision);
      }
      for (let attempt = 1; ; attempt += 1) {
        await this.refreshRemovals();
        const previous = this.removals.at(-1);
        const record = recordRemoval(
          previous,
          { streamName, lastRevision: last.revision, positions: events.map((event) => event.position), lastHash: last.hash },
          removal,
        );
        try {
          // Recorded before the tombstone: a crash in between leaves a record and an intact stream,
          // never a deletion nobody recorded.
          await this.client.appendToStream(REMOVALS_STREAM, [toRemovalEventData(record)], {
            streamState: previous ? BigInt(previous.sequence - 1) : NO_STREAM,
          });
          break;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError) || attempt >= ATTEMPTS_PER_APPEND) throw error;
        }
      }
      // Not fenced by revision: the record above already hides the stream from the log, so a
      // refused tombstone would leave a stream the log no longer shows. The window between the
      // read above and this call is a known gap on KurrentDB (docs/rights.md).
      await this.client.tombstoneStream(streamName);
      await this.refreshRemovals();
    } catch (error) {
      if (error instanceof StreamRevisionConflict) throw error;
      throw asUnavailable(error, `cannot remove ${streamName}`);
    }
  }

  /** From the records this instance holds anyway (to hide removed streams), after reading those added since. */
  async readRemovals(streamName: string): Promise<RemovalRecord[]> {
    this.assertOpen();
    try {
      await this.refreshRemovals();
    } catch (error) {
      throw asUnavailable(error, `cannot read the removals of ${streamName}`);
    }
    return [...(this.removalsByStream.get(streamName) ?? [])];
  }

  async health(): Promise<StoreHealth> {
    if (this.isClosed) return { ready: false, detail: 'store is closed' };
    try {
      await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
      return { ready: true };
    } catch (error) {
      return { ready: false, detail: failureClassesOf(error) };
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.subscriptions.closeAll();
    await this.client.dispose();
  }

  /**
   * Appends made through this instance to one stream run one after the other, in the order they
   * were made, as on the SQL stores: each reads the head the previous one left.
   */
  private afterEarlierAppendsTo<T>(streamName: string, append: () => Promise<T>): Promise<T> {
    const earlier = this.appendsInFlight.get(streamName) ?? Promise.resolve();
    const mine = earlier.catch(() => undefined).then(append);
    this.appendsInFlight.set(streamName, mine);
    const forget = () => {
      if (this.appendsInFlight.get(streamName) === mine) this.appendsInFlight.delete(streamName);
    };
    mine.then(forget, forget);
    return mine;
  }

  private isInLog(event: StoredEvent): boolean {
    return event.streamName !== REMOVALS_STREAM && !this.removedStreams.has(event.streamName);
  }

  private async headOf(streamName: string): Promise<StreamHead> {
    const [last] = await this.collectOrEmpty(
      this.client.readStream(streamName, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
    );
    return last ? { revision: last.revision, hash: last.hash } : EMPTY_STREAM_HEAD;
  }

  /**
   * The stream's events that could be an earlier copy of this append: where the caller said the
   * stream was (an exact revision), or else the most recent events.
   */
  private async earlierCopies(request: AppendRequest, head: StreamHead): Promise<Map<string, StoredEventLocation>> {
    const expected = request.expectedRevision === 'no-stream' ? -1 : request.expectedRevision;
    if (head.revision === -1) return new Map();
    const candidates =
      typeof expected === 'number'
        ? expected < head.revision
          ? await this.collectOrEmpty(
              this.client.readStream(request.streamName, { fromRevision: BigInt(expected + 1), maxCount: request.events.length }),
            )
          : []
        : await this.collectOrEmpty(
            this.client.readStream(request.streamName, { direction: BACKWARDS, fromRevision: END, maxCount: RETRY_LOOKBACK }),
          );
    const ids = new Set(request.events.map((event) => event.eventId));
    return new Map(candidates.filter((event) => ids.has(event.eventId)).map((event) => [event.eventId, event]));
  }

  /**
   * One read at a time, each from where the last one ended: two that overlapped would both append
   * the same records, and the doubled chain would read as tampering. Exports and histories now
   * call this concurrently.
   */
  private refreshRemovals(): Promise<void> {
    const reading = this.removalsRead.catch(() => undefined).then(() => this.readNewRemovals());
    this.removalsRead = reading;
    return reading;
  }

  private async readNewRemovals(): Promise<void> {
    const known = this.removals.length;
    const fresh = await this.collectRaw(this.client.readStream(REMOVALS_STREAM, { fromRevision: BigInt(known) }));
    for (const resolved of fresh) {
      const record = toRemovalRecord(resolved);
      if (!record) continue;
      this.removals.push(record);
      this.removedStreams.add(record.streamName);
      this.removalsByStream.set(record.streamName, [...(this.removalsByStream.get(record.streamName) ?? []), record]);
    }
  }

  private async collect(reading: AsyncIterable<ResolvedEvent>): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const resolved of reading) {
      const event = toStoredEvent(resolved);
      if (event) events.push(event);
    }
    return events;
  }

  private async collectOrEmpty(reading: AsyncIterable<ResolvedEvent>): Promise<StoredEvent[]> {
    try {
      return await this.collect(reading);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  private async collectRaw(reading: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
    const events: ResolvedEvent[] = [];
    try {
      for await (const resolved of reading) events.push(resolved);
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return events;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreUnavailable('the KurrentDB event store is closed');
  }
}
