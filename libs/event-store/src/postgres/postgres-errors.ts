import { EventStoreUnavailable } from '../errors';
import { isAnswerLate } from './answer-timeout';

const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs and driver errors meaning "the database cannot serve us right now": class 08
 * (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections),
 * and an answer that did not come in time, which leaves the connection unusable (see answer-timeout.ts).
 */
export function isConnectionFailure(error: unknown): boolean {
  if (isAnswerLate(error)) return true;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (networkErrorCodes.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  const message = (error as Error)?.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    message,
  ) || isNoConnectionInTime(error);
}

/**
 * The pool had no connection free, or could not open one, within `connectionTimeoutMillis`
 * (`timeout expired`, from a client of its own, outside a pool): nothing was sent.
 */
export const isNoConnectionInTime = (error: unknown): boolean =>
  /timeout exceeded when trying to connect|Connection terminated due to connection timeout|^timeout expired$/i.test((error as Error)?.message ?? '');

/**
 * Failures after which the whole group can simply be tried again: a deadlock or serialization
 * failure, or a unique violation from another process storing the same event id at the same time
 * (the retry's idempotency check then sees that event and answers correctly).
 */
export function isWorthRetrying(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40001' || code === '40P01' || code === '23505';
}

export function asUnavailable(error: unknown, message: string): unknown {
  if (error instanceof EventStoreUnavailable) return error;
  return isConnectionFailure(error) || isLockTimeout(error) ? new EventStoreUnavailable(`${message}: ${(error as Error).message}`, error) : error;
}

/** 55P03: a lock was not granted within `lock_timeout` (another session holds the table or row). */
export const isLockTimeout = (error: unknown): boolean => (error as { code?: unknown })?.code === '55P03';
