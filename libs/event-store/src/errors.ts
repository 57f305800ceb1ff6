import type { ExpectedRevision } from './event-store.port';

/** Another writer changed the stream since the caller read it. Safe to retry after re-reading. */
export class StreamRevisionConflict extends Error {
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`stream ${streamName} is at revision ${actual}, expected ${String(expected)}`);
    this.name = 'StreamRevisionConflict';
  }
}

/**
 * An event id of the append is already stored, but not as this exact append (another stream, or
 * only some of the ids). Retrying cannot help: the caller reused an idempotency key.
 */
export class EventIdConflict extends Error {
  constructor(readonly eventId: string, detail: string) {
    super(`event id ${eventId} is already stored: ${detail}`);
    this.name = 'EventIdConflict';
  }
}

/** The store cannot be reached or refused the operation for a transient reason. */
export class EventStoreUnavailable extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'EventStoreUnavailable';
  }
}
