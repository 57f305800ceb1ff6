/**
 * The one port every event store adapter implements (SQLite, PostgreSQL, KurrentDB, in-memory).
 * The log it keeps is the legal proof of every consent choice, so the port promises more than
 * "append and read": optimistic concurrency, idempotent appends, one total order for every
 * reader, and a hash chain per stream that makes a direct edit of the database detectable.
 */

/**
 * Position in the global log. On the SQL stores it is dense (1, 2, 3, ...) and equals commit
 * order; on KurrentDB it is the `$all` commit position (increasing, not dense).
 * Always compare positions as bigint; serialise them as decimal strings.
 */
export type GlobalPosition = bigint;

/** Read or subscribe `after: START` to begin at the very first event. */
export const START: GlobalPosition = 0n;

/** Hash a stream's first event chains to. */
export const GENESIS_HASH = '0'.repeat(64);

export interface NewEvent {
  /** UUID. Derived from the command's idempotency key at the edge, so a retried command dedupes. */
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface StoredEvent {
  readonly streamName: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  readonly position: GlobalPosition;
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** When the store durably recorded the event: ISO-8601 UTC with milliseconds, set by the store. */
  readonly recordedAt: string;
  /** Hex SHA-256 over the event's content and `previousHash` (see `hash-chain.ts`). */
  readonly hash: string;
  /** Hash of the previous event in the same stream, or GENESIS_HASH for revision 0. */
  readonly previousHash: string;
}

/**
 * What the writer believes the stream looks like. A number is the revision of the stream's last
 * event (so `-1` is the same as `'no-stream'`).
 */
export type ExpectedRevision = 'any' | 'no-stream' | 'stream-exists' | number;

export interface AppendedEvent {
  readonly eventId: string;
  readonly revision: number;
  readonly position: GlobalPosition;
}

export interface AppendResult {
  readonly streamName: string;
  readonly events: readonly AppendedEvent[];
  /** Revision of the stream's last event after the append. */
  readonly nextExpectedRevision: number;
  /** Global position of the last event of this append. */
  readonly position: GlobalPosition;
  /** True when every event id was already stored: the store returns the first append's result. */
  readonly deduplicated: boolean;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards defaults to 0, backwards to the stream's last revision. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: the first event returned has a position greater than this. */
  readonly after?: GlobalPosition;
  readonly maxCount?: number;
}

/**
 * A page of stream names. Names are in name order: byte order of their UTF-8 text (which is Unicode
 * code point order), the order PostgreSQL's `COLLATE "C"` and SQLite's default collation keep in
 * their primary key, so a page is a range of that key.
 */
export interface ListStreamNamesOptions {
  /**
   * Only names that begin with this, e.g. `rights-request-` for every rights request, or
   * `ledgerStreamOf('')` for every subject; '' lists every stream.
   */
  readonly prefix: string;
  /** Exclusive: the last name of the previous page (absent for the first page). */
  readonly after?: string;
  /** At most this many names (at least 1): a caller walks millions of streams a page at a time. */
  readonly limit: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive, as in `readAll`: usually the subscriber's stored checkpoint. */
  readonly after: GlobalPosition;
  /**
   * Called once per event, in global order, never concurrently. The next event is delivered
   * only after the returned promise settles; a rejection stops the subscription (see `done`).
   */
  onEvent(event: StoredEvent): Promise<void> | void;
  /** Called each time the subscriber has read everything committed so far. */
  onCaughtUp?(position: GlobalPosition): void;
  readonly batchSize?: number;
}

export interface Subscription {
  /**
   * Stops delivery; resolves once no `onEvent` call is in flight. A handler that stops its own
   * subscription calls `close()` without awaiting it: delivery ends when that handler returns, and
   * awaiting there would wait for itself. (Telling the two callers apart needs AsyncLocalStorage,
   * whose promise hooks cost every promise in the process ~4% of the service's CPU.)
   */
  close(): Promise<void>;
  /** Settles when the subscription stops: resolves after `close()`, rejects on a failure. */
  readonly done: Promise<void>;
}

export type IntegrityBreakKind = 'altered' | 'removed' | 'reordered' | 'inserted';

export interface IntegrityBreak {
  readonly kind: IntegrityBreakKind;
  readonly streamName?: string;
  readonly revision?: number;
  readonly position?: GlobalPosition;
  /** One sentence an auditor can read. */
  readonly detail: string;
}

export interface IntegrityReport {
  readonly intact: boolean;
  readonly eventsChecked: number;
  readonly streamsChecked: number;
  readonly firstBreak?: IntegrityBreak;
}

export interface VerifyOptions {
  /** Verify one stream only; otherwise the whole store, streams and global order. */
  readonly streamName?: string;
  /** Called every few thousand events with the number checked so far. */
  onProgress?(eventsChecked: number): void;
}

/**
 * Facts the remover keeps with a removal, as flat JSON values (a run id, an instant, a count), so
 * whoever later asks about the stream reads them back as given instead of parsing `reason`.
 */
export type RemovalDetails = Readonly<Record<string, string | number | boolean>>;

/**
 * Why a stream was removed on purpose (e.g. its proof retention ended). Kept by the store so that
 * `verify` tells a sanctioned removal from tampering.
 */
export interface StreamRemoval {
  readonly reason: string;
  readonly removedAt: string;
  /** Kept in the removal record and covered by its hash; absent from records written before 2026-11-29. */
  readonly details?: RemovalDetails;
  /**
   * The stream's last revision when the removal was decided: if anything was appended since, the
   * stream stays whole and StreamRevisionConflict is thrown (a choice made meanwhile is kept).
   */
  readonly expectedRevision?: number;
}

/**
 * The store's own record of a sanctioned removal: which events went (their positions and the
 * stream's last hash), why and when. Records form a hash chain of their own, so editing or deleting
 * one after the fact is detectable, and a removal can only excuse the positions it lists.
 */
export interface RemovalRecord {
  /** 1, 2, 3, ... in the order the removals were made. */
  readonly sequence: number;
  readonly streamName: string;
  readonly lastRevision: number;
  readonly positions: readonly GlobalPosition[];
  /** Hash of the stream's last event when it was removed. */
  readonly lastHash: string;
  readonly reason: string;
  readonly removedAt: string;
  /** As given to `removeStream`; absent when none were given. */
  readonly details?: RemovalDetails;
  /** Hash of the previous removal record, GENESIS_HASH for the first. */
  readonly previousHash: string;
  readonly hash: string;
}

export interface StoreHealth {
  readonly ready: boolean;
  /** Why not ready: our own sentence, or the failure's error classes and codes (`failureClassesOf`), never a driver's message. */
  readonly detail?: string;
}

export interface EventStore {
  readonly kind: 'sqlite' | 'postgres' | 'kurrentdb' | 'in-memory';

  /**
   * Appends atomically (all events or none). Throws StreamRevisionConflict when the stream is not
   * at `expectedRevision`. Resolves only once the events are durable.
   */
  append(
    streamName: string,
    events: readonly NewEvent[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /** Events of one stream; an unknown stream reads as []. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;

  /** The global log in order, from after a position. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;

  /**
   * Names of the streams that hold events now, those beginning with `prefix`, in name order, up to
   * `limit` after `after`; fewer than `limit` (possibly none) on the last page. A removed stream is
   * not listed (until it is written again). Without it, a service that needs every stream of one
   * kind (every rights request, every subject) reads the whole global log: hundreds of millions of
   * events at national scale, to find a few thousand streams. The SQL stores answer from the
   * primary key of their stream heads, reading only the names asked for; KurrentDB has no such
   * index (see its adapter for what a page costs there): there the pages after a walk's first one
   * come from the names it found, so a stream begun meanwhile is listed by the next walk.
   */
  listStreamNames(options: ListStreamNamesOptions): Promise<string[]>;

  /** Position of the last committed event visible to readers (START when empty). */
  headPosition(): Promise<GlobalPosition>;

  /** Catch-up, then live, in the same order `readAll` gives. */
  subscribeToAll(options: SubscribeToAllOptions): Subscription;

  /** Walks hash chains (and, for the whole store, the global order) and reports the first break. */
  verify(options?: VerifyOptions): Promise<IntegrityReport>;

  /** Deletes a whole stream on purpose and records the removal so `verify` accepts the gap. */
  removeStream(streamName: string, removal: StreamRemoval): Promise<void>;

  /**
   * The removal records of one stream, oldest first ([] for a stream never removed): one indexed
   * lookup, whatever number of other streams were removed. A stream written again after a removal
   * can be removed again, so there may be several.
   */
  readRemovals(streamName: string): Promise<RemovalRecord[]>;

  /**
   * Runs `work` once no other process runs work under `name` on this store, and keeps them waiting
   * meanwhile, where the store can tell: PostgreSQL through a lock its session holds, SQLite
   * through a lock file beside the log (a process that dies lets go of either). Absent elsewhere:
   * the caller keeps its own process in line. `work` is told when its lock may have gone to
   * another process (HeldLock).
   */
  exclusively?<T>(name: string, work: (lock: HeldLock) => Promise<T>): Promise<T>;

  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** What `exclusively`'s work is given, to check before each step it must not take beside another process's. */
export interface HeldLock {
  /**
   * Throws `EventStoreUnavailable` once the lock may be another process's: on PostgreSQL, once the
   * session holding it ended (terminated, timed out, a restart); the work must stop, not go on as
   * if alone.
   */
  assertHeld(): void;
}
