import { performance } from 'node:perf_hooks';
import { Controller, Get, Module, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CallingClientIfAny, KeyOptional } from '../api-keys/api-key.guard';
import type { ApiClient } from '../api-keys/api-keys';
import { type EventStore, failureClassesOf, type StoreHealth } from '@consent-ledger/event-store';
import type { ScrubStatus } from '@consent-ledger/personal-data';
import { LedgerStorage } from '../ledger/ledger-storage';

/**
 * How far the read models (campaign filtering, the rows SQL consumers read, the topics) have
 * applied the log. With `PROJECTOR=off` another process keeps them: when it stops, commands are
 * still taken but audience questions wait and answer 503, and this is where an operator sees why.
 */
export interface ReadModelsHealth {
  /** Whether they had applied every event the log held when asked. */
  readonly upToDate: boolean;
  /** The last log position they have applied, and the log's own, as decimal strings. */
  readonly position?: string;
  readonly logPosition?: string;
  /** Why their position could not be read: the failure's error classes and codes, never its message. */
  readonly detail?: string;
}

/**
 * A Kafka feed the read-model database knows (one per topic prefix): the projector publishing it
 * has no HTTP surface of its own, and a feed that stalled (broker unreachable, no instance leading
 * it, waiting on catalogue rules) leaves partners without changes while every command succeeds.
 */
export interface FeedHealth {
  /** `consent-feed`, or `consent-feed:<KAFKA_TOPIC_PREFIX>`. */
  readonly name: string;
  /** The last log position it published, as a decimal string. */
  readonly position: string;
  /** How many log positions it has not published yet (the log's position less its own), as a decimal string. */
  readonly behind: string;
  /** The projector instance holding its lease now; null when none does, so nobody publishes it. */
  readonly leader: string | null;
}

/**
 * Whether the bytes of every destroyed personal-data key are gone from the key store's files, or
 * which transactions keep them there for now (docs/decisions/0006); `unknown` when the key store
 * could not be asked (`detail`: the failure's error classes and codes). The keys themselves are
 * unreadable from their destruction on: this is about what the database's files still hold.
 */
export type KeyScrubHealth = ScrubStatus | { readonly state: 'unknown'; readonly detail: string };

/**
 * What a caller without a key is told, for 200 and 503 alike: whether the service is ready, and
 * nothing else. The details name projector instances (`hostname-pid` by default), topic prefixes,
 * how many positions the log holds (how many choices were ever recorded) and the stores' failures.
 */
export interface HealthStatus {
  readonly status: 'ready' | 'unavailable';
}

/** What a caller with a valid key (any scope) is told, the same body for 200 and 503: monitors read `status`, operators `store.detail`, `readModels`, `keyScrub` and `feeds`. */
export interface HealthAnswer extends HealthStatus {
  readonly store: StoreHealth & { readonly kind: EventStore['kind'] };
  readonly readModels: ReadModelsHealth;
  readonly keyScrub: KeyScrubHealth;
  /** Every feed but the retired ones, in order of name; `[]` without Kafka. Absent when the read-model database could not be read (`readModels.detail` says why). */
  readonly feeds?: readonly FeedHealth[];
  /**
   * The names of the feeds retired for good whose rows remain (their outbox cursor deleted, no
   * instance leading them), in order of name; with `feeds`. Apart from `feeds`, which monitors
   * alert on: nobody is meant to publish them, so they fall further behind with every event.
   */
  readonly retiredFeeds?: readonly string[];
}

/** What one read of the log's head and the read-model database tells. */
interface ProgressHealth {
  readonly readModels: ReadModelsHealth;
  readonly feeds?: readonly FeedHealth[];
  readonly retiredFeeds?: readonly string[];
}

/**
 * How long /health waits for the stores. A database that stops answering without closing its
 * connections (a network cut, a frozen host) would otherwise hold the answer for as long as that
 * lasts, and a probe (Kubernetes waits 1 s by default) read no answer at all: not "not ready" but
 * "not alive", and restarted the process for the database's fault.
 */
const PROBE_TIMEOUT_MS = 500;

/**
 * How long a probe still waiting is shared with later calls. Its query may be on a connection
 * that never answers again (a database host failed over after taking it, a firewall that lost the
 * connection): shared for ever, it kept /health unready long after new connections were answered.
 */
const PROBE_SHARED_FOR_MS = 5_000;

/** A probe under way, and when it began. */
interface SharedProbe<T> {
  readonly answer: Promise<T>;
  readonly startedAt: number;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  /** Probes still waiting for the stores: later calls share them, for a while, rather than queue more queries behind them. */
  private storeProbe?: SharedProbe<StoreHealth>;
  private progressProbe?: SharedProbe<ProgressHealth>;
  private scrubProbe?: SharedProbe<KeyScrubHealth>;

  constructor(private readonly storage: LedgerStorage) {}

  /**
   * Answering at all is liveness; `ready` is whether the event store can take commands. Read models
   * or feeds behind do not make the service unready: choices must still be recorded while they catch up.
   * Load balancers and probes send no key and are told `status` alone; the details are for the
   * operator's own systems, whose every key (any scope) may read them.
   */
  @Get()
  @KeyOptional()
  @ApiOperation({
    summary: 'Liveness (any answer) and readiness of the event store (200 ready, 503 not ready); with an API key, also the stores and how far the read models and the Kafka feeds have come through the log',
    description: 'Needs no key: without Authorization, the body is { status } alone. With any valid API key (any scope), the full detail. A key that is not valid is answered 401, as on every route.',
  })
  async health(@Res({ passthrough: true }) reply: FastifyReply, @CallingClientIfAny() client: ApiClient | undefined): Promise<HealthStatus | HealthAnswer> {
    // A caller without a key is not told the read models' progress, so they are not asked for it.
    const [store, progress, keyScrub] = await Promise.all([this.storeHealth(), client && this.readModelsProgress(), client && this.keyScrubHealth()]);
    void reply.status(store.ready ? 200 : 503);
    if (!store.ready) void reply.header('Retry-After', '2');
    const status = store.ready ? 'ready' : 'unavailable';
    if (!progress || !keyScrub) return { status };
    const { readModels, feeds, retiredFeeds } = progress;
    return { status, store: { kind: this.storage.eventStore.kind, ...store }, readModels, keyScrub, ...(feeds && { feeds, retiredFeeds }) };
  }

  private keyScrubHealth(): Promise<KeyScrubHealth> {
    if (!isShareable(this.scrubProbe)) {
      const answer = this.storage.vault.scrubStatus().catch((error: unknown): KeyScrubHealth => ({ state: 'unknown', detail: failureClassesOf(error) }));
      this.scrubProbe = startProbe(answer, (done) => done === this.scrubProbe && (this.scrubProbe = undefined));
    }
    return withinProbeTime(this.scrubProbe.answer, { state: 'unknown', detail: `the key store did not answer within ${PROBE_TIMEOUT_MS} ms` });
  }

  private storeHealth(): Promise<StoreHealth> {
    if (!isShareable(this.storeProbe)) this.storeProbe = startProbe(this.storage.health(), (done) => done === this.storeProbe && (this.storeProbe = undefined));
    return withinProbeTime(this.storeProbe.answer, { ready: false, detail: `the event store did not answer within ${PROBE_TIMEOUT_MS} ms` });
  }

  private readModelsProgress(): Promise<ProgressHealth> {
    if (!isShareable(this.progressProbe)) this.progressProbe = startProbe(this.progressHealth(), (done) => done === this.progressProbe && (this.progressProbe = undefined));
    return withinProbeTime(this.progressProbe.answer, { readModels: { upToDate: false, detail: `the log or the read models did not answer within ${PROBE_TIMEOUT_MS} ms` } });
  }

  private async progressHealth(): Promise<ProgressHealth> {
    try {
      // The log's head first: an event appended between the reads must not look applied or published.
      const logPosition = await this.storage.eventStore.headPosition();
      const { readModels } = this.storage;
      const [position, feeds] = await Promise.all([readModels.checkpoint(), readModels.storage.feedProgress()]);
      return {
        readModels: { upToDate: position >= logPosition, position: String(position), logPosition: String(logPosition) },
        feeds: feeds
          .filter((feed) => !feed.isRetired)
          .map((feed) => ({ name: feed.name, position: String(feed.position), behind: String(logPosition - feed.position), leader: feed.leader ?? null })),
        retiredFeeds: feeds.filter((feed) => feed.isRetired).map((feed) => feed.name),
      };
    } catch (error) {
      // A driver's message names the database, its user and its host: not for every key holder either.
      return { readModels: { upToDate: false, detail: failureClassesOf(error) } };
    }
  }
}

/** `settled` is told when the probe has its answer; never rejects, as neither probe does. */
function startProbe<T>(answer: Promise<T>, settled: (probe: SharedProbe<T>) => void): SharedProbe<T> {
  const probe = { answer, startedAt: performance.now() };
  void answer.finally(() => settled(probe));
  return probe;
}

const isShareable = <T>(probe: SharedProbe<T> | undefined): probe is SharedProbe<T> => probe !== undefined && performance.now() - probe.startedAt < PROBE_SHARED_FOR_MS;

function withinProbeTime<T>(probe: Promise<T>, whenLate: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(whenLate), PROBE_TIMEOUT_MS)));
  return Promise.race([probe, late]).finally(() => clearTimeout(timer));
}

@Module({ controllers: [HealthController] })
export class HealthModule {}
