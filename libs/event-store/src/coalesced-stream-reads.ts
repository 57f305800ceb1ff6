import type { StoredEvent } from './event-store.port';

/**
 * Reads many streams at once, each from the given revision on, in revision order; a stream with
 * no such events may be left out.
 */
export type ManyStreamsReader = (fromRevisions: ReadonlyMap<string, number>) => Promise<ReadonlyMap<string, readonly StoredEvent[]>>;

interface WaitingRead {
  readonly fromRevision: number;
  resolve(events: StoredEvent[]): void;
  reject(error: unknown): void;
}

/**
 * Forward stream reads that arrive while others are in flight wait and go together, in one query.
 * Every command reads its subject's stream before it decides, and every decision reads the events
 * its cached copy lacks, so under load this is most of the store's queries, and each costs a
 * socket write and a statement for a handful of rows. Two reads of one stream share its query,
 * which starts at the lower revision.
 *
 * A read never joins a query that has already started: its query begins after the call, so it
 * sees every append acknowledged before the call (what read-your-writes needs). With fewer than
 * `maxInFlight` queries running, a read starts at once and waits for nobody.
 */
export class CoalescedStreamReads {
  private waiting = new Map<string, WaitingRead[]>();
  private inFlight = 0;

  constructor(
    private readonly readMany: ManyStreamsReader,
    private readonly options: { readonly maxInFlight: number; readonly maxStreamsPerQuery: number },
  ) {}

  read(streamName: string, fromRevision = 0): Promise<StoredEvent[]> {
    return new Promise<StoredEvent[]>((resolve, reject) => {
      const readers = this.waiting.get(streamName);
      if (readers) readers.push({ fromRevision, resolve, reject });
      else this.waiting.set(streamName, [{ fromRevision, resolve, reject }]);
      this.startQueries();
    });
  }

  private startQueries(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.size > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      const fromRevisions = new Map([...batch].map(([streamName, readers]) => [streamName, Math.min(...readers.map((reader) => reader.fromRevision))]));
      this.readMany(fromRevisions)
        .then(
          (byStream) => {
            for (const [streamName, readers] of batch) {
              const events = byStream.get(streamName) ?? [];
              // Each caller gets an array of its own, from its own revision.
              for (const reader of readers) reader.resolve(events.filter((event) => event.revision >= reader.fromRevision));
            }
          },
          (error: unknown) => {
            for (const readers of batch.values()) for (const reader of readers) reader.reject(error);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          this.startQueries();
        });
    }
  }

  private takeBatch(): Map<string, WaitingRead[]> {
    if (this.waiting.size <= this.options.maxStreamsPerQuery) {
      const all = this.waiting;
      this.waiting = new Map();
      return all;
    }
    const batch = new Map<string, WaitingRead[]>();
    for (const [streamName, readers] of this.waiting) {
      if (batch.size === this.options.maxStreamsPerQuery) break;
      batch.set(streamName, readers);
    }
    for (const streamName of batch.keys()) this.waiting.delete(streamName);
    return batch;
  }
}
