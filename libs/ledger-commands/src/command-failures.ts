import { LedgerRuleBroken, type LedgerRule } from '@consent-ledger/domain';
import { AppendOutcomeUnknown, EventIdConflict, EventStoreUnavailable, isAnswerLate, StreamRevisionConflict } from '@consent-ledger/event-store';
import { IdempotencyKeyReused } from './idempotency/idempotency-key-reused';
import type { FieldProblem } from './request-validation';

/**
 * The error bodies of the command contract. HTTP sends them with the status; the Kafka intake
 * publishes them with the same status as a result, so a channel sees one vocabulary either way.
 */
export type CommandErrorBody =
  | { readonly error: 'validation-failed'; readonly details: readonly FieldProblem[] }
  | { readonly error: LedgerRule; readonly message: string }
  | { readonly error: 'idempotency-key-reused' | 'concurrent-modification' | 'unavailable'; readonly message: string };

export interface CommandFailure {
  readonly status: 400 | 409 | 422 | 503;
  readonly body: CommandErrorBody;
  /** For 503: seconds after which a retry is worth trying. */
  readonly retryAfterSeconds?: number;
}

export const RETRY_AFTER_SECONDS = 2;

export const validationFailed = (details: readonly FieldProblem[]): CommandFailure => ({
  status: 400,
  body: { error: 'validation-failed', details },
});

/** The failure a command error means for the channel, or undefined for a fault of ours (HTTP 500). */
export function commandFailureOf(error: unknown): CommandFailure | undefined {
  if (error instanceof LedgerRuleBroken) return { status: 422, body: { error: error.rule, message: error.message } };
  if (error instanceof IdempotencyKeyReused) {
    return { status: 409, body: { error: 'idempotency-key-reused', message: 'this Idempotency-Key was already used with a different request' } };
  }
  if (error instanceof EventIdConflict) {
    return { status: 409, body: { error: 'idempotency-key-reused', message: 'this Idempotency-Key was already used for another append' } };
  }
  if (error instanceof StreamRevisionConflict) {
    return {
      status: 409,
      body: { error: 'concurrent-modification', message: 'other writers kept changing this subject; nothing was recorded, retry' },
    };
  }
  // Checked before the general case, which it is one of: telling the caller nothing was recorded
  // would be false, and a caller who believed it might send the choice again under a new key.
  if (error instanceof AppendOutcomeUnknown) {
    return {
      status: 503,
      body: {
        error: 'unavailable',
        message: 'the ledger storage did not confirm the command in time: it may have been recorded; a retry with the same Idempotency-Key records it once',
      },
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    };
  }
  if (isStorageUnavailable(error)) {
    return {
      status: 503,
      body: { error: 'unavailable', message: 'the ledger storage is unavailable; nothing was recorded, retry later' },
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    };
  }
  return undefined;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /database connection is not open/i,
  /client was closed/i,
  /is closed/i,
  // node-postgres's query_timeout: no answer in time (a network cut that keeps the connection open).
  /^Query read timeout$/,
];

/**
 * PostgreSQL ends the session with every FATAL error, whatever its SQLSTATE: a database closed to
 * new sessions (55000), dropped for a restore (3D000), a password being rotated (28P01). The
 * request never reached it, which a retry may get past once the database takes sessions again.
 */
const isSessionEnded = (severity: unknown): boolean => severity === 'FATAL' || severity === 'PANIC';

/**
 * True when storage could not be reached or refused for a transient reason: the event store's own
 * `EventStoreUnavailable`, a driver's connection error (PostgreSQL SQLSTATE classes 08, 53, 57P, or
 * any error that ended the session), a busy or missing SQLite file. Follows `cause` chains.
 */
export function isStorageUnavailable(error: unknown): boolean {
  for (const current of errorAndCauses(error)) {
    const { name, message, code, severity } = current as { name?: unknown; message?: unknown; code?: unknown; severity?: unknown };
    if (current instanceof EventStoreUnavailable || isAnswerLate(current) || (typeof name === 'string' && /Unavailable$/.test(name))) return true;
    if (isSessionEnded(severity)) return true;
    if (typeof code === 'string') {
      if (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CODES.has(code.split('_').slice(0, 2).join('_'))) return true;
      if (/^(08|53|57P)/.test(code) || code === '55P03') return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}

/**
 * `error`, then what it was caused by (`cause`, or an AggregateError's first), five deep at most.
 * Duck-typed, not `instanceof Error`: driver errors may come from another realm (a test sandbox, a worker).
 */
export function* errorAndCauses(error: unknown): Generator<object> {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth += 1) {
    yield current;
    current = (current as { cause?: unknown }).cause ?? (current as { errors?: unknown[] }).errors?.[0];
  }
}

