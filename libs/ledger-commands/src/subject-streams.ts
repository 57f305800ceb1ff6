import {
  type AsOf,
  evolve,
  initialLedger,
  type Instant,
  isLedgerEventType,
  LEDGER_EVENT_SCHEMA_VERSION,
  type Ledger,
  ledgerAsOf,
  type LedgerEvent,
  type RecordedLedgerEvent,
} from '@consent-ledger/domain';
import type { EventStore, GlobalPosition, StoredEvent } from '@consent-ledger/event-store';

/** The one place a subject's stream name is built. */
export const ledgerStreamOf = (subjectId: string): string => `consent-ledger-${subjectId}`;

/** A ledger event as this edge keeps it: where it sits in the log, and the request that caused it. */
export interface LedgerEntry {
  readonly event: RecordedLedgerEvent;
  readonly position: GlobalPosition;
  /** Fingerprint of the request that appended it (see `requestFingerprint`), when one was recorded. */
  readonly requestFingerprint?: string;
  /** Fingerprint of the statement, for a request that stated its instant (see `statementFingerprint`). */
  readonly statementFingerprint?: string;
}

/** One subject's stream, folded: the answer to "what does the ledger know about this subject". */
export interface SubjectStream {
  readonly subjectId: string;
  readonly entries: readonly LedgerEntry[];
  readonly ledger: Ledger;
  /** Revision of the last event, -1 for a subject with no events. */
  readonly revision: number;
  /** Global position of the last event, undefined for a subject with no events. */
  readonly position?: GlobalPosition;
  /** The latest `occurredAt` in the stream: the folded ledger is the ledger at any instant from then on. */
  readonly latestOccurredAt?: Instant;
  readonly indexOfEventId: ReadonlyMap<string, number>;
  /** Each `statementFingerprint` of its entries, with the index of the last entry that carries it. */
  readonly statements: ReadonlyMap<string, number>;
}

export const emptySubjectStream = (subjectId: string): SubjectStream => ({
  subjectId,
  entries: [],
  ledger: initialLedger(),
  revision: -1,
  indexOfEventId: new Map(),
  statements: new Map(),
});

export function extendSubjectStream(stream: SubjectStream, newEntries: readonly LedgerEntry[]): SubjectStream {
  if (newEntries.length === 0) return stream;
  const entries = [...stream.entries, ...newEntries];
  const indexOfEventId = new Map(stream.indexOfEventId);
  const statements = newEntries.some((entry) => entry.statementFingerprint !== undefined) ? new Map(stream.statements) : stream.statements;
  let { ledger, latestOccurredAt } = stream;
  newEntries.forEach((entry, offset) => {
    ledger = evolve(ledger, entry.event);
    indexOfEventId.set(entry.event.eventId, stream.entries.length + offset);
    if (entry.statementFingerprint !== undefined) (statements as Map<string, number>).set(entry.statementFingerprint, stream.entries.length + offset);
    const occurredAt = entry.event.data.capture.occurredAt;
    if (latestOccurredAt === undefined || occurredAt > latestOccurredAt) latestOccurredAt = occurredAt;
  });
  const last = newEntries[newEntries.length - 1];
  return { ...stream, entries, ledger, revision: last.event.revision, position: last.position, latestOccurredAt, indexOfEventId, statements };
}

/**
 * Whether the statement with this fingerprint is in the stream and nothing made at its instant was
 * recorded after it. Its copy would then change no answer: choices made later outrank both copies
 * alike, and only order of arrival tells choices made at one instant apart (a channel stamping to
 * the minute, the person toggling within it), so one recorded since may have been the person
 * changing their mind, and the statement sent again their changing it back.
 */
export function holdsStatement(stream: SubjectStream, statementFingerprint: string): boolean {
  const index = stream.statements.get(statementFingerprint);
  if (index === undefined) return false;
  const { occurredAt } = stream.entries[index].event.data.capture;
  for (let later = index + 1; later < stream.entries.length; later += 1) {
    if (stream.entries[later].event.data.capture.occurredAt === occurredAt) return false;
  }
  return true;
}

export function ledgerEntryOf(stored: StoredEvent): LedgerEntry {
  if (!isLedgerEventType(stored.type) || stored.schemaVersion !== LEDGER_EVENT_SCHEMA_VERSION) {
    throw new Error(`${stored.streamName} holds event ${stored.eventId} of type ${stored.type} v${stored.schemaVersion}, which this version cannot read`);
  }
  const event = { type: stored.type, data: stored.data, eventId: stored.eventId, revision: stored.revision } as unknown as RecordedLedgerEvent;
  const { requestFingerprint, statementFingerprint } = stored.metadata;
  return {
    event,
    position: stored.position,
    ...(typeof requestFingerprint === 'string' && { requestFingerprint }),
    ...(typeof statementFingerprint === 'string' && { statementFingerprint }),
  };
}

export function recordedEntry(
  event: LedgerEvent,
  eventId: string,
  revision: number,
  position: GlobalPosition,
  { requestFingerprint, statementFingerprint }: Pick<LedgerEntry, 'requestFingerprint' | 'statementFingerprint'> = {},
): LedgerEntry {
  return {
    event: { ...event, eventId, revision } as RecordedLedgerEvent,
    position,
    ...(requestFingerprint !== undefined && { requestFingerprint }),
    ...(statementFingerprint !== undefined && { statementFingerprint }),
  };
}

/**
 * Subjects' streams, with a bounded cache of the recently used ones. `read` always asks the store
 * for events newer than the cached revision, so a reader sees every acknowledged write, including
 * those of other processes; the cache only saves re-reading and re-folding the older events.
 */
export class SubjectStreams {
  private readonly recent = new Map<string, SubjectStream>();

  constructor(
    private readonly store: EventStore,
    private readonly capacity = 10_000,
  ) {}

  /** The subject's stream as the store has it now. */
  async read(subjectId: string): Promise<SubjectStream> {
    const known = this.recent.get(subjectId) ?? emptySubjectStream(subjectId);
    const newer = await this.store.readStream(ledgerStreamOf(subjectId), { fromRevision: known.revision + 1 });
    const stream = extendSubjectStream(known, newer.map(ledgerEntryOf));
    this.remember(stream);
    return stream;
  }

  /** What this process last saw of the subject, possibly behind the store. */
  cached(subjectId: string): SubjectStream | undefined {
    return this.recent.get(subjectId);
  }

  /** Keeps the newer of the given and the cached stream. */
  remember(stream: SubjectStream): void {
    const cached = this.recent.get(stream.subjectId);
    if (cached && cached.revision > stream.revision) return;
    this.recent.delete(stream.subjectId);
    this.recent.set(stream.subjectId, stream);
    if (this.recent.size > this.capacity) this.recent.delete(this.recent.keys().next().value!);
  }

  forget(subjectId: string): void {
    this.recent.delete(subjectId);
  }
}

/**
 * The subject's ledger as of `at` (and as known at `knownAt`), see `ledgerAsOf`. When every event
 * occurred by `at` and no `knownAt` is asked, that is the folded ledger already at hand.
 */
export function ledgerOfStreamAsOf(stream: SubjectStream, { at, knownAt }: AsOf): Ledger {
  const isWholeStream = knownAt === undefined && (at === undefined || stream.latestOccurredAt === undefined || stream.latestOccurredAt <= at);
  return isWholeStream ? stream.ledger : ledgerAsOf(stream.entries.map((entry) => entry.event), { at, knownAt });
}
