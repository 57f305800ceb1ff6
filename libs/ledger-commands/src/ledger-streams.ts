import { setTimeout as delay } from 'node:timers/promises';
import {
  type Catalogue,
  decide,
  LEDGER_EVENT_SCHEMA_VERSION,
  type LedgerCommand,
  type LedgerEvent,
  type EventRef,
  type Instant,
  type LedgerEventType,
  LedgerRuleBroken,
  type Ledger,
  ledgerOf,
  type RecordedLedgerEvent,
  supersededBy,
} from '@consent-ledger/domain';
import { type EventStore, type NewEvent, StreamRevisionConflict } from '@consent-ledger/event-store';
import { type CommandOrigin, eventIdFor } from './event-ids';
import { IdempotencyKeyReused } from './idempotency/idempotency-key-reused';
import { PerKeyQueue } from './per-key-queue';
import { NoticesInTheLog } from './published-catalogues';
import { extendSubjectStream, holdsStatement, ledgerStreamOf, recordedEntry, type SubjectStream, SubjectStreams } from './subject-streams';

/** What a command did: the events it appended (none when the choice was already in force). */
export interface HandledCommand {
  readonly subjectId: string;
  readonly events: readonly AppendedEvent[];
  /** Global position (decimal) of the command's last event, or of the subject's last event when it appended none. */
  readonly position: string | null;
}

export interface AppendedEvent {
  readonly id: string;
  readonly type: LedgerEventType;
  readonly revision: number;
  /**
   * Later choices of the person that keep this one from standing (late paperwork): it is recorded
   * as evidence and counts for the time before them. Absent when it stands.
   */
  readonly supersededBy?: readonly EventRef[];
  /**
   * When a consent given lapses by itself: the catalogue's validity from when it was given, or the
   * earlier `validUntil` the person chose. A later `validUntil` is cut back to the validity, and a
   * channel system showing the person its own date would show one the ledger does not hold.
   */
  readonly expiresAt?: Instant;
}

/** What the caller is told about an event of its command, judged on the ledger as it stands once appended. */
function appendedEvent(event: RecordedLedgerEvent, ledger: Ledger): AppendedEvent {
  const later = supersededBy(ledger, event);
  const expiresAt = event.type === 'ConsentGiven' ? event.data.expiresAt : undefined;
  return {
    id: event.eventId,
    type: event.type,
    revision: event.revision,
    ...(later.length > 0 && { supersededBy: later }),
    ...(expiresAt !== undefined && { expiresAt }),
  };
}

/** What `handle` answers: the command's result, and whether an earlier attempt of it had already recorded it. */
export interface CommandHandled {
  readonly handled: HandledCommand;
  /** The command's events were already in the stream (a retry): `handled` is the first attempt's answer. */
  readonly isEarlierAnswer: boolean;
}

/** Who sent a command and which request it was: the source of its event ids and of its metadata. */
export interface CommandTrace extends CommandOrigin {
  readonly requestFingerprint: string;
  /** For a request that stated its instant: the statement however it is written (see `statementFingerprint`). */
  readonly statementFingerprint?: string;
}

export interface LedgerStreamsOptions {
  /** How long a command keeps retrying while other processes keep winning the race for its subject. */
  readonly conflictRetryMs?: number;
}

/**
 * Runs commands against subjects' streams: read, fold, decide, append at the revision decided on.
 *
 * Commands for one subject run one after another inside this process, so they never race each
 * other; a conflict can only come from another process, and is retried by re-reading and deciding
 * again (safe because `decide` is pure). A command first decides on the cached stream without
 * reading: an append that adds events proves the cache was current (or conflicts), while "nothing to
 * do" and a broken rule are confirmed against the store before they are answered. See ADR 0004.
 */
export class LedgerStreams {
  private readonly queue = new PerKeyQueue();
  private readonly conflictRetryMs: number;
  private readonly notices: NoticesInTheLog;

  constructor(
    private readonly store: EventStore,
    private readonly catalogue: Catalogue,
    readonly streams: SubjectStreams = new SubjectStreams(store),
    options: LedgerStreamsOptions = {},
  ) {
    this.conflictRetryMs = options.conflictRetryMs ?? 10_000;
    this.notices = new NoticesInTheLog(store);
  }

  /**
   * Reads the subject's stream into the cache unless it is there, so that `handle` can decide
   * without waiting for a read. Run it beside other work of the request (the idempotency lookup).
   */
  async prefetch(subjectId: string): Promise<void> {
    if (!this.streams.cached(subjectId)) await this.streams.read(subjectId);
  }

  /** Whether the subject's stream, as last read, holds its erasure. */
  async isKnownErased(subjectId: string): Promise<boolean> {
    await this.prefetch(subjectId);
    return this.streams.cached(subjectId)?.ledger.erasure !== undefined;
  }

  /**
   * The answer an earlier attempt of the traced command got, when its events are in the subject's
   * stream: as this process last read it, or with `asStoredNow` as the store holds it now (another
   * process may have just appended it).
   */
  earlierAnswer(subjectId: string, trace: CommandTrace, { asStoredNow = false } = {}): Promise<HandledCommand | undefined> {
    return this.queue.run(subjectId, async () => {
      const cached = asStoredNow ? undefined : this.streams.cached(subjectId);
      return this.earlierAppendOf(cached ?? (await this.streams.read(subjectId)), trace);
    });
  }

  handle(command: LedgerCommand, trace: CommandTrace): Promise<CommandHandled> {
    return this.queue.run(command.subjectId, () => this.decideAndAppend(command, trace));
  }

  private async decideAndAppend(command: LedgerCommand, trace: CommandTrace): Promise<CommandHandled> {
    const { subjectId } = command;
    const cached = this.streams.cached(subjectId);
    let stream = cached ?? (await this.streams.read(subjectId));
    let isCurrent = cached === undefined;
    let noticesInTheLog = await this.notices.known();
    let noticesAreCurrent = false;
    const giveUpAt = Date.now() + this.conflictRetryMs;
    for (let attempt = 1; ; attempt += 1) {
      const earlier = this.earlierAppendOf(stream, trace);
      if (earlier) return { handled: earlier, isEarlierAnswer: true };
      // A dated statement already recorded, delivered again under another key (a channel's retry
      // queue): the log holds it once (see `holdsStatement`). What the cache holds is in the store;
      // one another process recorded meanwhile makes the append below conflict.
      if (trace.statementFingerprint !== undefined && holdsStatement(stream, trace.statementFingerprint)) {
        return { handled: { subjectId, events: [], position: stream.position?.toString() ?? null }, isEarlierAnswer: false };
      }

      let events: LedgerEvent[];
      try {
        events = decide(command, stream.ledger, { catalogue: this.catalogue, noticesInTheLog });
      } catch (error) {
        // A catalogue another process published since the last read (a rolling upgrade) may name the notice.
        if (error instanceof LedgerRuleBroken && error.rule === 'notice-version-unknown' && !noticesAreCurrent) {
          [noticesInTheLog, noticesAreCurrent] = [await this.notices.readNew(), true];
          continue;
        }
        if (error instanceof LedgerRuleBroken && !isCurrent) {
          [stream, isCurrent] = [await this.streams.read(subjectId), true];
          continue;
        }
        throw error;
      }
      if (events.length === 0) {
        if (!isCurrent) {
          [stream, isCurrent] = [await this.streams.read(subjectId), true];
          continue;
        }
        return { handled: { subjectId, events: [], position: stream.position?.toString() ?? null }, isEarlierAnswer: false };
      }

      const ids = events.map((_, index) => eventIdFor(trace, subjectId, index));
      try {
        const result = await this.store.append(ledgerStreamOf(subjectId), events.map((event, index) => this.toNewEvent(command, event, ids[index], trace)), {
          expectedRevision: stream.revision,
        });
        if (result.deduplicated) {
          // An earlier attempt of this very command was stored (a crash before its answer): answer as it did.
          this.streams.forget(subjectId);
          const stored = this.earlierAppendOf(await this.streams.read(subjectId), trace);
          if (stored) return { handled: stored, isEarlierAnswer: true };
        }
        const entries = result.events.map((appended, index) =>
          recordedEntry(events[index], appended.eventId, appended.revision, appended.position, trace),
        );
        const extended = extendSubjectStream(stream, entries);
        this.streams.remember(extended);
        return {
          handled: {
            subjectId,
            events: entries.map(({ event }) => appendedEvent(event, extended.ledger)),
            position: result.position.toString(),
          },
          isEarlierAnswer: false,
        };
      } catch (error) {
        this.streams.forget(subjectId);
        if (!(error instanceof StreamRevisionConflict) || Date.now() > giveUpAt) throw error;
        // Another process wrote to this subject. Each round of the race has a winner, so retrying
        // makes progress; a small jitter keeps the same two writers from colliding in lockstep.
        await delay(Math.random() * Math.min(attempt, 10));
        [stream, isCurrent] = [await this.streams.read(subjectId), true];
      }
    }
  }

  /** The answer an earlier attempt of the same command got, when its events are in the stream. */
  private earlierAppendOf(stream: SubjectStream, trace: CommandTrace): HandledCommand | undefined {
    const firstIndex = stream.indexOfEventId.get(eventIdFor(trace, stream.subjectId, 0));
    if (firstIndex === undefined) return undefined;
    const first = stream.entries[firstIndex];
    if (first.requestFingerprint !== undefined && first.requestFingerprint !== trace.requestFingerprint) {
      throw new IdempotencyKeyReused(trace.client, trace.idempotencyKey);
    }
    const entries = [first];
    let lastIndex = firstIndex;
    for (let index = 1; ; index += 1) {
      const at = stream.indexOfEventId.get(eventIdFor(trace, stream.subjectId, index));
      if (at === undefined) break;
      entries.push(stream.entries[at]);
      lastIndex = at;
    }
    // Judged on the ledger the command led to, as its first answer was: later events must not change it.
    const ledgerThen = ledgerOf(stream.entries.slice(0, lastIndex + 1).map(({ event }) => event));
    return {
      subjectId: stream.subjectId,
      events: entries.map(({ event }) => appendedEvent(event, ledgerThen)),
      position: entries[entries.length - 1].position.toString(),
    };
  }

  private toNewEvent(command: LedgerCommand, event: LedgerEvent, eventId: string, trace: CommandTrace): NewEvent {
    return {
      eventId,
      type: event.type,
      schemaVersion: LEDGER_EVENT_SCHEMA_VERSION,
      data: event.data,
      metadata: {
        commandType: command.type,
        client: trace.client,
        idempotencyKey: trace.idempotencyKey,
        requestFingerprint: trace.requestFingerprint,
        ...(trace.statementFingerprint !== undefined && { statementFingerprint: trace.statementFingerprint }),
      },
    };
  }
}
