import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { linesFor } from './request-ids';

/**
 * Where the outage lines go: NestJS's logger in the service. The start and the reminders are
 * warnings; the end is good news, at info level (NestJS's `log`), which the service writes once it
 * listens, so the on-call engineer who read the start reads the end too.
 */
export interface OutageLog {
  warn(message: string): void;
  log(message: string): void;
}

/** While storage stays unavailable, a reminder at most this often: one line per request would bury the rest of the log. */
export const OUTAGE_WARNING_EVERY_MS = 30_000;

/**
 * An outage with no request refused for this long is taken as over when the next refusal comes:
 * its end goes unseen when no route it refused is asked again, and an outage hours later was
 * reported as the same one going on.
 */
export const OUTAGE_FORGOTTEN_AFTER_MS = 5 * 60_000;

interface Outage {
  readonly since: number;
  /** `METHOD /route/:pattern` of every route refused: an answer on one of them says the storage answers again. */
  readonly routes: Set<string>;
  refused: number;
  refusedSinceWarning: number;
  lastRefusedAt: number;
  reason: string;
  warned: boolean;
}

/**
 * Tells the operator when requests start being refused 503 because the ledger storage is
 * unavailable, and when they are answered again: the 503s alone left the API's log silent through
 * a database outage (found in review). A warning when it starts, a reminder at most every 30 s
 * while it lasts, one line when a route that was refused answers 2xx again.
 */
export class StoreOutages {
  private outage: Outage | undefined;
  private lastWarnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly log: OutageLog,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A request on `route` was answered 503 because storage was unavailable, for `reason` (error classes, nothing of the request). */
  refused(route: string, reason: string): void {
    const at = this.now();
    if (this.outage && at - this.outage.lastRefusedAt > OUTAGE_FORGOTTEN_AFTER_MS) this.outage = undefined;
    const outage = (this.outage ??= { since: at, routes: new Set(), refused: 0, refusedSinceWarning: 0, lastRefusedAt: at, reason, warned: false });
    outage.lastRefusedAt = at;
    outage.routes.add(route);
    outage.refused += 1;
    outage.refusedSinceWarning += 1;
    outage.reason = reason;
    // Also across a recovery: storage that comes and goes each second would otherwise warn each second.
    if (at - this.lastWarnedAt < OUTAGE_WARNING_EVERY_MS) return;
    this.log.warn(
      outage.warned
        ? `the ledger storage is still unavailable after ${seconds(at - outage.since)} s (${reason}): ${outage.refusedSinceWarning} requests answered 503 since the last warning`
        : `the ledger storage is unavailable (${reason}): commands and decisions are answered 503 with Retry-After until it answers again`,
    );
    this.lastWarnedAt = at;
    outage.warned = true;
    outage.refusedSinceWarning = 0;
  }

  /** Whether requests are being refused for storage unavailable: only then does an answer say anything. */
  get isOngoing(): boolean {
    return this.outage !== undefined;
  }

  /** A request on `route` was answered 2xx. */
  answered(route: string): void {
    const outage = this.outage;
    if (!outage?.routes.has(route)) return;
    this.outage = undefined;
    // An outage that was never told of (within 30 s of the last one) ends as quietly.
    if (!outage.warned) return;
    this.log.log(`the ledger storage answers again after ${seconds(this.now() - outage.since)} s unavailable: ${outage.refused} requests were answered 503 meanwhile`);
  }
}

const seconds = (ms: number): number => Math.round(ms / 1000);

/** The route's pattern and method, never the path a caller sent (it may hold a subject id). */
export function routeOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions?.url ?? '(no route)'}`;
}

/** Tells `outages` of every request answered 2xx during an outage; outside one, every request pays one check. */
export function reportAnswers(fastify: FastifyInstance, outages: StoreOutages): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    if (outages.isOngoing && reply.statusCode >= 200 && reply.statusCode < 300) linesFor(request.id, () => outages.answered(routeOf(request)));
    done();
  });
}
