import { type Catalogue, PROOF_RETENTION_RUNS_STREAM, type ProofRetentionRun } from '@consent-ledger/domain';
import type { EventStore, GlobalPosition, StoredEvent } from '@consent-ledger/event-store';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import {
  type AppliedBatch,
  AUDIENCES,
  type AudienceId,
  type AudienceRow,
  catalogueRulesOf,
  type ChangeSet,
  type ProjectedEvent,
  type ProjectedReadModels,
  LEDGER_STREAM_PREFIX,
  readLedgerEvent,
  REPUBLICATION_PAGE_SIZE,
  republicationMarkerOf,
  type RepublicationStep,
  type SubjectView,
} from '@consent-ledger/read-models';
import { CompressionTypes, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { ConsentTopics } from '../kafka/topics';
import { AppliedLog } from './applied-log';
import { type AudienceKeys, audienceMessageOf, audienceTombstoneOf } from './audience-message';
import { CommittedViews } from './committed-views';
import type { FeedMessage } from './feed-message';
import { integrationEventOf } from './integration-event';
import { type FeedCause, headersOf, removalMessageIdOf, stateMessageOf, timeDrivenMessageIdOf } from './state-message';

export interface ConsentFeedOptions {
  readonly store: EventStore;
  readonly readModels: ProjectedReadModels;
  readonly catalogue: Catalogue;
  /** Connected, idempotent (see `idempotentProducer`). */
  readonly producer: Producer;
  readonly topics: ConsentTopics;
  readonly keys: AudienceKeys;
  /** Erasure is repeated here (the API destroys the key first; this covers a crash in between). */
  readonly vault?: PersonalDataVault;
  /** The lease the publisher's checkpoint is fenced by: a deposed publisher cannot move it. */
  readonly fence?: { readonly role: string; readonly holder: string };
  /**
   * Asked right before each batch goes to the broker: false when the lease may have run out (the
   * process was paused), so a batch built from older state is not sent after another instance
   * has taken the feed and published newer state. The checkpoint's fence alone came too late.
   */
  readonly mayPublish?: () => boolean;
  readonly checkpointName: string;
  readonly batchSize?: number;
  /** Subjects a republication after a rebuild puts in the outbox at a time (REPUBLICATION_PAGE_SIZE). */
  readonly republicationPageSize?: number;
  /** Longest wait for news before looking again (time-driven changes wait at most this long). */
  readonly idleWaitMs?: number;
  /** Gzip (the default) keeps compacted topics small; `none` spends no CPU on it. */
  readonly compression?: FeedCompression;
  readonly log: { warn(message: string): void; error(message: string, error?: unknown): void };
}

export type FeedCompression = 'gzip' | 'none';

export class LostLeadership extends Error {
  constructor(role: string) {
    super(`another instance holds the ${role} lease now; this one stops publishing`);
    this.name = 'LostLeadership';
  }
}

const RETRY_MS = 1000;
const RUN_RECORDS: ReadonlySet<string> = new Set<ProofRetentionRun['type']>(['ProofRetentionRunCompleted', 'ProofRetentionRunInterrupted']);
const TIME_DRIVEN_PAGE = 500;
/** How often the feed looks again at which rules the read models follow, between rebuilds. */
const RULES_RECHECK_MS = 10_000;

/**
 * Publishes the ledger to Kafka from the log, never from the request path: integration events,
 * each subject's state, and audience memberships, at least once. It follows the read models (the
 * state it publishes is theirs) with a checkpoint of its own, saved only after the broker has
 * acknowledged every message of a batch. A crash in between publishes the batch again; consumers
 * de-duplicate by event id.
 */
export class ConsentFeedPublisher {
  private isStopped = true;
  private running?: Promise<void>;
  private wake?: () => void;
  private published: GlobalPosition = 0n;
  private republishedByThisInstance = 0;
  private readonly committed: CommittedViews;
  private readonly appliedLog = new AppliedLog();
  private readonly ownRules: ReturnType<typeof catalogueRulesOf>;
  /** The catalogue version of read models this feed last said it would not publish from. */
  private toldOfRules?: string;

  constructor(private readonly options: ConsentFeedOptions) {
    this.committed = new CommittedViews(options.catalogue);
    this.ownRules = catalogueRulesOf(options.catalogue);
  }

  /** Told by read models running in this process after each commit (see CommittedViews and AppliedLog). */
  readModelsCommitted(changes: ChangeSet, batch?: AppliedBatch): void {
    this.committed.remember(changes);
    if (batch) this.appliedLog.remember(batch);
  }

  /** Position of the last event whose messages the broker acknowledged. */
  get checkpoint(): GlobalPosition {
    return this.published;
  }

  start(onLostLeadership?: () => void): void {
    if (!this.isStopped) return;
    this.isStopped = false;
    this.running = this.run().catch((error: unknown) => {
      if (error instanceof LostLeadership) {
        this.options.log.warn(error.message);
        onLostLeadership?.();
      } else this.options.log.error('the consent feed stopped', error);
    });
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  private async run(): Promise<void> {
    const { readModels, idleWaitMs = 1000 } = this.options;
    const stopped = new Promise<void>((resolve) => (this.wake = resolve));
    this.published = await readModels.storage.checkpoint(this.options.checkpointName);
    await readModels.storage.followStateChanges(this.options.checkpointName);
    // Marked by a migration or an edited catalogue, along with a rebuild: looked at when the feed
    // starts and when it finds the read models behind it, not once a second for ever.
    const isMarked = async () => (await readModels.storage.checkpoint(republicationMarkerOf(this.options.checkpointName))) > 0n;
    let isRepublicationOwed = await isMarked();
    let timeDrivenLookedAt = 0;
    let rulesLookedAt = 0;
    while (!this.isStopped) {
      try {
        const applied = await readModels.checkpoint();
        if (applied < this.published) {
          // Another process is rebuilding them: a view read now may be older than what this feed
          // published, so nothing goes out until they are back where it was.
          isRepublicationOwed ||= await isMarked();
          rulesLookedAt = 0;
          await Promise.race([readModels.waitFor(this.published, idleWaitMs).catch(() => undefined), stopped]);
          continue;
        }
        if (Date.now() - rulesLookedAt > RULES_RECHECK_MS) {
          // State is decided by this process's catalogue, audiences by the rows': under other
          // rules the two would disagree, so nothing goes out until the deployments agree.
          if (!(await this.followsTheRulesOfTheReadModels())) {
            await Promise.race([new Promise((resolve) => setTimeout(resolve, idleWaitMs)), stopped]);
            continue;
          }
          // A rebuild that began and caught up between two turns of this loop (a small log, a
          // send to the broker that took long) was never seen behind, and its marker waited for
          // the next start: the subjects' values were never published again.
          isRepublicationOwed ||= await isMarked();
          rulesLookedAt = Date.now();
        }
        let isLogMoving = false;
        if (applied > this.published) {
          const next = await this.publishLog(this.published, applied);
          isLogMoving = next > this.published;
          if (isLogMoving) this.published = next;
        }
        // While commands keep coming the log always has news; changes caused by time are still
        // looked at once per idle wait, so an expiry is not held back for as long as traffic lasts.
        if (isLogMoving && Date.now() - timeDrivenLookedAt < idleWaitMs) continue;
        timeDrivenLookedAt = Date.now();
        const timeDriven = await this.publishTimeDrivenChanges();
        if (timeDriven === 'read-models-behind') {
          isRepublicationOwed ||= await isMarked();
          rulesLookedAt = 0;
          continue;
        }
        let isMoreDue = timeDriven === 'more-due';
        // A republication's next page goes in once the outbox is drained, so the outbox holds one
        // page of it at most, and a change caused by time waits behind no more than that.
        if (!isMoreDue && isRepublicationOwed) {
          const step = await this.queueRepublicationPage(applied);
          isRepublicationOwed = step.kind === 'waiting' || (step.kind === 'queued' && !step.isLast);
          isMoreDue = step.kind === 'queued';
        }
        if (isLogMoving || isMoreDue) continue;
        // Woken by the read models' next commit (in this process, or by NOTIFY from another).
        const seen = applied > this.published ? applied : this.published;
        await Promise.race([readModels.waitFor(seen + 1n, idleWaitMs).catch(() => undefined), stopped]);
      } catch (error) {
        if (error instanceof LostLeadership) throw error;
        this.options.log.error('publishing to Kafka failed; retrying from the last acknowledged position', error);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, RETRY_MS)), stopped]);
        this.published = await readModels.storage.checkpoint(this.options.checkpointName).catch(() => this.published);
      }
    }
  }

  private async followsTheRulesOfTheReadModels(): Promise<boolean> {
    const theirs = await this.options.readModels.storage.recordedRules();
    if (theirs === undefined || theirs.digest === this.ownRules.digest) {
      this.toldOfRules = undefined;
      return true;
    }
    if (this.toldOfRules !== theirs.version) {
      this.toldOfRules = theirs.version;
      this.options.log.error(
        `the read models follow catalogue ${theirs.version}, whose rules differ from this process's ${this.ownRules.version}: ` +
          'this feed publishes nothing until it runs on the same catalogue as the process that keeps them',
      );
    }
    return false;
  }

  /** Publishes the events after `from`, up to what the read models have applied; returns the new checkpoint. */
  private async publishLog(from: GlobalPosition, applied: GlobalPosition): Promise<GlobalPosition> {
    const { store, readModels, topics, catalogue, keys, vault, batchSize = 500 } = this.options;
    const events =
      this.appliedLog.eventsAfter(from, applied, batchSize) ??
      (await store.readAll({ after: from, maxCount: batchSize })).filter((event) => event.position <= applied);
    if (events.length === 0) return from;
    const upTo = events[events.length - 1].position;

    const ledgerEvents: ProjectedEvent[] = events.flatMap((event) => {
      const reading = readLedgerEvent(event);
      return reading.kind === 'ledger' ? [reading.projected] : [];
    });
    const lastEventOf = new Map<string, ProjectedEvent>();
    for (const projected of ledgerEvents) lastEventOf.set(projected.event.data.subjectId, projected);
    const views = new Map<string, SubjectView>();
    for (const [subjectId, last] of lastEventOf) {
      const view = this.committed.view(subjectId, last.position);
      if (view) views.set(subjectId, view);
    }
    const unknown = [...lastEventOf.keys()].filter((subjectId) => !views.has(subjectId));
    if (unknown.length > 0) for (const [subjectId, view] of await readModels.storage.views(unknown)) views.set(subjectId, view);

    const outgoing = new Outgoing(topics, this.committed);
    for (const projected of ledgerEvents) outgoing.add(topics.events, integrationEventOf(projected));
    for (const [subjectId, last] of lastEventOf) {
      const view = views.get(subjectId);
      // The read models went back (a rebuild started after we read their checkpoint): wait for them.
      if (!view || view.lastPosition < last.position) return from;
      const cause: FeedCause = { messageId: last.event.eventId, causationId: last.event.eventId };
      outgoing.subject(view, catalogue, keys, cause, (row) => row.changedAt > from && row.changedAt <= upTo);
    }
    // After the subjects' own messages: a subject whose events precede its removal in this batch
    // is published, then forgotten.
    await this.addRemovals(events, outgoing);

    for (const projected of ledgerEvents) {
      if (projected.event.type === 'SubjectErased') await vault?.destroyKey(projected.event.data.subjectId);
    }
    this.assertStillLeading();
    await outgoing.send(this.options.producer, this.options.compression ?? 'gzip');
    await this.saveCheckpoint(upTo);
    this.committed.publishedUpTo(upTo);
    this.appliedLog.publishedUpTo(upTo);
    return upTo;
  }

  /**
   * Tombstones for the subjects a proof-retention run removed from the log (its record in the log
   * names them, or for a run stopped part-way, the record a later run made of it): the ledger
   * forgets them, and the compacted topics kept their last state and memberships for good, so
   * every consumer kept them too. Not for a dry run, which removes
   * nothing, nor for a subject whose id has a stream again (a new person given the id between the
   * removal and the run's record): its own events publish its state. The audiences' tombstones go
   * where the subject was heard of, as for an erasure; the read models keep a removed subject's
   * rows, and without them (rebuilt since) both audiences get one, which tells a partner nothing.
   */
  private async addRemovals(events: readonly StoredEvent[], outgoing: Outgoing): Promise<void> {
    const runs = events.filter((event) => event.streamName === PROOF_RETENTION_RUNS_STREAM && RUN_RECORDS.has(event.type));
    for (const run of runs) {
      const recorded = { type: run.type, data: run.data } as unknown as ProofRetentionRun;
      const { removed } = recorded.data;
      if ((recorded.type === 'ProofRetentionRunCompleted' && recorded.data.dryRun) || !Array.isArray(removed)) continue;
      const subjectIds = [...new Set(removed.map((record) => record.subjectId))];
      const gone: string[] = [];
      for (const subjectId of subjectIds) {
        const stream = await this.options.store.readStream(`${LEDGER_STREAM_PREFIX}${subjectId}`, { maxCount: 1 });
        if (stream.length === 0) gone.push(subjectId);
      }
      const views = await this.options.readModels.storage.views(gone);
      for (const subjectId of gone) {
        const cause: FeedCause = { messageId: removalMessageIdOf(run.eventId, subjectId), causationId: run.eventId };
        outgoing.removal(subjectId, run.position, views.get(subjectId), this.options.keys, cause);
      }
    }
  }

  /**
   * A new version that decides differently, or an edited catalogue, rebuilds the read models,
   * and every value consumers hold may be stale: once the rebuild has caught up with what this
   * feed had published, every subject goes through the outbox (as a time-driven change would),
   * not only those with news, a page of subjects at a time, each in a short transaction of its own.
   */
  private async queueRepublicationPage(applied: GlobalPosition): Promise<RepublicationStep> {
    const { readModels, checkpointName, republicationPageSize = REPUBLICATION_PAGE_SIZE, log } = this.options;
    // The sweep looks every 15 s by default: a minute's grace lets it keep up with steady expiries.
    // By the database's clock, which the sweep goes by: by this host's, a clock running ahead
    // held the pages back while anything was due within the difference.
    const step = await readModels.storage.enqueueRepublicationPage(checkpointName, applied, { msBeforeDatabaseClock: 60_000 }, republicationPageSize);
    if (step.kind !== 'queued') return step;
    if (this.republishedByThisInstance === 0) {
      log.warn(`the read models were rebuilt (a new version or an edited catalogue): publishing the state of every subject again, ${republicationPageSize} at a time`);
    }
    this.republishedByThisInstance += step.queued;
    if (step.isLast) log.warn(`every subject is queued to be published again (${this.republishedByThisInstance} by this instance)`);
    return step;
  }

  /**
   * Subjects whose decisions changed because time passed (recorded by the read models' sweep), a
   * page at a time: `more-due` when the page was full, so more may be waiting. Nothing is sent, and
   * the outbox's cursor stays, while the read models are behind what this feed published.
   */
  private async publishTimeDrivenChanges(): Promise<'more-due' | 'done' | 'read-models-behind'> {
    const { readModels, topics, catalogue, keys } = this.options;
    const { changes, lastSequence, isFull } = await readModels.storage.pendingStateChanges(this.options.checkpointName, TIME_DRIVEN_PAGE);
    if (lastSequence === undefined) return 'done';
    // The loop found the read models where this feed had published, but another process may have
    // begun rebuilding them since: a subject read half-rebuilt stands at an earlier event (a
    // withdrawn consent given again), and went out as the compacted topic's last value until the
    // republication reached it. The views come with the checkpoint they were read at.
    const { views, appliedUpTo } = await readModels.storage.viewsAsApplied([...new Set(changes.map((change) => change.subjectId))]);
    if (appliedUpTo < this.published) return 'read-models-behind';
    const outgoing = new Outgoing(topics, this.committed);
    for (const change of changes) {
      const view = views.get(change.subjectId);
      // An erased subject's tombstones go out with its erasure, from the log; a change queued
      // before the erasure has nothing left to say, and would only send them again.
      if (!view || view.ledger.erasure) continue;
      const causeOf = (state: FeedMessage, picked: readonly AudienceRow[]): FeedCause => ({
        messageId: timeDrivenMessageIdOf(change.sequence, view.subjectId, view.evaluatedAt, state.value, picked),
        causationId: `time:${change.changedAt}`,
      });
      outgoing.subject(view, catalogue, keys, causeOf, (row) => change.audiences === undefined || change.audiences.includes(row.audience));
    }
    this.assertStillLeading();
    await outgoing.send(this.options.producer, this.options.compression ?? 'gzip');
    const moved = await readModels.storage.stateChangesPublished(this.options.checkpointName, lastSequence, this.options.fence);
    if (!moved) throw new LostLeadership(this.options.fence?.role ?? 'publisher');
    return isFull ? 'more-due' : 'done';
  }

  private assertStillLeading(): void {
    if (this.options.mayPublish && !this.options.mayPublish()) throw new LostLeadership(this.options.fence?.role ?? 'publisher');
  }

  private async saveCheckpoint(position: GlobalPosition): Promise<void> {
    const saved = await this.options.readModels.storage.saveCheckpoint(this.options.checkpointName, position, this.options.fence);
    if (!saved) throw new LostLeadership(this.options.fence?.role ?? 'publisher');
  }
}

/** The messages of one batch, by topic, in the order they were added (per key: the log's order). */
class Outgoing {
  private readonly byTopic = new Map<string, Message[]>();

  constructor(
    private readonly topics: ConsentTopics,
    private readonly committed: CommittedViews,
  ) {}

  add(topic: string, message: FeedMessage): void {
    const messages = this.byTopic.get(topic) ?? [];
    messages.push({ key: message.key, value: message.value, headers: { ...message.headers } });
    this.byTopic.set(topic, messages);
  }

  /**
   * The subject's state, and its audience memberships the filter picks. On erasure, a tombstone
   * for each audience the subject ever was in; a partner never hears of anyone else, erased or not.
   */
  subject(
    view: SubjectView,
    catalogue: Catalogue,
    keys: AudienceKeys,
    causeOrIdOfContent: FeedCause | ((state: FeedMessage, picked: readonly AudienceRow[]) => FeedCause),
    picks: (row: AudienceRow) => boolean,
  ): void {
    const picked = view.ledger.erasure ? [] : AUDIENCES.flatMap(({ id }) => view.audiences.get(id) ?? []).filter(picks);
    const state = stateMessageOf(view, catalogue, { messageId: '', causationId: '' }, this.committed.purposesJson(view));
    const cause = typeof causeOrIdOfContent === 'function' ? causeOrIdOfContent(state, picked) : causeOrIdOfContent;
    this.add(this.topics.state, { ...state, headers: headersOf(view, cause) });
    for (const { id } of AUDIENCES) {
      const topic = this.audienceTopic(id);
      const row = view.audiences.get(id);
      if (view.ledger.erasure) {
        if (row) this.add(topic, audienceTombstoneOf(id, view, keys, cause));
      } else if (row && picked.includes(row)) this.add(topic, audienceMessageOf(row, view, keys, cause));
    }
  }

  /** A subject the log no longer holds: a tombstone on the state topic and on the audiences it may have been heard of on. */
  removal(subjectId: string, position: GlobalPosition, view: SubjectView | undefined, keys: AudienceKeys, cause: FeedCause): void {
    const where = { subjectId, lastPosition: position };
    this.add(this.topics.state, { key: subjectId, value: null, headers: headersOf(where, cause) });
    for (const { id } of AUDIENCES) {
      if (view && !view.audiences.get(id)) continue;
      this.add(this.audienceTopic(id), audienceTombstoneOf(id, where, keys, cause));
    }
  }

  private audienceTopic(id: AudienceId): string {
    return id === 'pickx-tv-ads' ? this.topics.pickxTvAds : this.topics.adsAndData;
  }

  /**
   * Sends in requests one after the other, each small enough that no record batch goes over the
   * broker's `message.max.bytes` (1 MiB by default, checked after compression): a refused batch
   * retried for ever would stop the feed. Gzipped JSON shrinks at least 4× (a state value: 11 KB
   * → 1.5 KB), so a 2 MiB request stays under the limit even if all its messages land in one
   * partition; uncompressed, requests stay under 900 KiB. Few large requests matter: with one
   * request in flight each costs a round trip (500 states: ~120 ms in 2 MiB requests, ~350 ms in
   * 512 KiB ones, measured here).
   */
  async send(producer: Producer, compression: FeedCompression): Promise<void> {
    const maxRequestBytes = compression === 'gzip' ? 2 * 1024 * 1024 : 900 * 1024;
    const codec = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    let request: TopicMessages[] = [];
    let bytes = 0;
    const flush = async () => {
      if (request.length > 0) await producer.sendBatch({ topicMessages: request, acks: -1, compression: codec });
      request = [];
      bytes = 0;
    };
    for (const [topic, messages] of this.byTopic) {
      let chunk: Message[] = [];
      for (const message of messages) {
        const size = sizeOf(message);
        if (bytes + size > maxRequestBytes && bytes > 0) {
          if (chunk.length > 0) request.push({ topic, messages: chunk });
          chunk = [];
          await flush();
        }
        chunk.push(message);
        bytes += size;
      }
      if (chunk.length > 0) request.push({ topic, messages: chunk });
    }
    await flush();
  }
}

function sizeOf(message: Message): number {
  const value = message.value;
  const valueBytes = value === null || value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  return valueBytes + 200;
}
