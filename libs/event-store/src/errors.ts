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

/**
 * The statement that commits the append was sent, and then the connection was lost or its answer
 * did not come in time: the append may have been committed or not. Retrying it with the same
 * event ids is safe, since the store answers a retry of a stored append with that append's result.
 */
export class AppendOutcomeUnknown extends EventStoreUnavailable {
  constructor(message: string, cause?: unknown) {
    super(message, cause);
    this.name = 'AppendOutcomeUnknown';
  }
}

/**
 * What a failure was, told without its message: the class of each error along the `cause` chain
 * with its code (`EventStoreUnavailable < Error ECONNREFUSED`, `DatabaseError 57P01`). A driver's
 * message may quote a statement's values, or name the database, its user and its host:port, which
 * neither an operator's log nor `/health` (whose details any API key reads) should carry.
 */
export function failureClassesOf(error: unknown): string {
  const classes: string[] = [];
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    const className = current.constructor?.name || 'Object';
    classes.push(typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `${className} ${code}` : className);
    current = cause ?? (current as { errors?: unknown[] }).errors?.[0];
  }
  return classes.length > 0 ? classes.join(' < ') : typeof error;
}
