import type { QueryConfig } from 'pg';
import { AnswerNotHeard } from './answer-watch';

/**
 * `query` given at most `timeoutMs` to be answered (node-postgres's `query_timeout`), or as it is
 * when `timeoutMs` is undefined.
 *
 * Requests (commands, decisions) need one: a statement sent into a network cut that leaves the
 * connection open (packets dropped, no reset) waits for as long as the cut lasts, and after it
 * heals until TCP's retransmission backoff gets through, a minute or more; and the group commit,
 * the coalesced stream reads and the batched idempotency records make every request of the
 * process wait behind it. Maintenance (migrations, verify, removals, rebuilds) goes without: its
 * statements may rightly run for minutes.
 *
 * When the time is up the query fails and the connection is left as it is, the statement still
 * unanswered on it: a query sent on it next would wait behind that one. The connection must be
 * closed, never used again: `pool.query` closes it (it releases its client with the error); a
 * checked-out client must be released with `release(true)` (`checkOutClient`, which keeps the
 * timeout of its clients' statements itself, closes one released with a statement unanswered,
 * whatever it is told).
 */
export function withAnswerTimeout<Query extends QueryConfig<any>>(query: Query, timeoutMs: number | undefined): Query {
  return timeoutMs === undefined ? query : { ...query, query_timeout: timeoutMs };
}

/** What node-postgres fails a query with when its `query_timeout` ran out, and checkOutClient's clients too. */
const ANSWER_LATE = 'Query read timeout';

export const answerLate = (): Error => new Error(ANSWER_LATE);

/** `answer`, or `late()` as its error once `timeoutMs` have passed without it; what it waits on goes on. */
export function answeredWithin<T>(answer: Promise<T>, timeoutMs: number, late: () => Error = answerLate): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(late()), timeoutMs)));
  return Promise.race([answer, giveUp]).finally(() => clearTimeout(timer));
}

/** A query failed for its answer timeout (`answerLate`), or given up by `watchAnswers`. */
export const isAnswerLate = (error: unknown): boolean => error instanceof AnswerNotHeard || (error as { message?: unknown })?.message === ANSWER_LATE;

/**
 * How long a request waits for a connection of the pool, free or new: a server out of reach
 * (packets dropped, not refused) held each new connection, and the request waiting for it, until
 * the server or the operating system gave up, a minute or two. 5 s, or the answer timeout when
 * shorter, so every store a command or decision touches gives up alike, as unavailable.
 */
export const connectionWaitMs = (answerTimeoutMs: number | undefined): number => Math.min(5000, answerTimeoutMs ?? 5000);
