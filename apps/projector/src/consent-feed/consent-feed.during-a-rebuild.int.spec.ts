import type { Instant, LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, consentWithdrawn, relationshipStarted } from '@consent-ledger/domain/testing';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { openReadModelStorage, ProjectedReadModels, type Projections, type ReadModelStorage, republicationMarkerOf, startProjections } from '@consent-ledger/read-models';
import type { Admin, Producer } from 'kafkajs';
import { planEvents } from '../../../../libs/read-models/src/change-set';
import { appendToLog } from '../../../../libs/read-models/src/testing/stored-events';
import { createTestSchema, kafkaTestBrokers, type TestSchema, uniqueName } from '../../../../test/support/services';
import { ensureTopics, idempotentProducer, kafkaClient } from '../kafka/kafka-client';
import { type ConsentTopics, consentTopics } from '../kafka/topics';
import { TopicReader } from '../testing/topic-reader';
import { audienceKeys } from './audience-message';
import { ConsentFeedPublisher } from './consent-feed.publisher';

const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';
const HOUR = 3_600_000;
const later = (ms: number) => new Date(Date.now() + ms).toISOString() as Instant;
const quiet = { warn: () => undefined, error: () => undefined };
const describeWithPostgresAndKafka: jest.Describe = process.env.CL_TEST_POSTGRES === 'up' && process.env.CL_TEST_KAFKA === 'up' ? describe : describe.skip;

/**
 * Found in a consumer team's review: the time-driven path read the views without asking whether
 * the read models were still where the feed had published from. Another process (a new version's
 * migration, a projector on an edited catalogue, a log restored) empties them and rebuilds from
 * the log; a subject read half-rebuilt went out under a `time-` id, its value as of an earlier
 * event, and stayed the last value of the compacted topic until the republication reached it.
 */
describeWithPostgresAndKafka('the consent feed while another process rebuilds the read models (PostgreSQL, Kafka)', () => {
  let schema: TestSchema;
  let store: EventStore;
  let topics: ConsentTopics;
  let admin: Admin;
  let producer: Producer;
  let reader: TopicReader;
  let feedsReadModels: ProjectedReadModels;
  let feedsProjections: Projections;
  let publisher: ConsentFeedPublisher;
  let rebuilders: { readModels: ProjectedReadModels; projections?: Projections } | undefined;

  beforeEach(async () => {
    schema = await createTestSchema('cl_feed_rebuild');
    store = createInMemoryEventStore();
    topics = consentTopics(`${process.env.TEST_KAFKA_TOPIC_PREFIX ?? ''}${uniqueName('cl_rebuild')}.`);
    const kafka = kafkaClient({ brokers: kafkaTestBrokers(), clientId: uniqueName('feed-rebuild') });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, 1, 1);
    producer = idempotentProducer(kafka);
    await producer.connect();
    reader = await TopicReader.open(kafkaTestBrokers(), [topics.state]);
    feedsReadModels = new ProjectedReadModels({ storage: await openReadModelStorage({ kind: 'postgres', url: schema.url, poolSize: 2 }), catalogue, store });
    feedsProjections = startProjections({ readModels: feedsReadModels, store, sweepEveryMs: 0, log: quiet });
    publisher = new ConsentFeedPublisher({
      store,
      readModels: feedsReadModels,
      catalogue,
      producer,
      topics,
      keys: audienceKeys(Buffer.alloc(32)),
      checkpointName: 'consent-feed',
      idleWaitMs: 50,
      log: quiet,
    });
    publisher.start();
  });

  afterEach(async () => {
    await publisher?.stop();
    await feedsProjections?.stop();
    await rebuilders?.projections?.stop();
    for (const readModels of [feedsReadModels, rebuilders?.readModels]) {
      await readModels?.close();
      await readModels?.storage.close();
    }
    rebuilders = undefined;
    await reader?.close();
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin?.disconnect();
    await schema?.drop();
  });

  /** Another process's rebuild, begun and taken as far as the log's first `applied` events. */
  async function anotherProcessRebuildsUpTo(applied: number): Promise<ReadModelStorage> {
    const storage = await openReadModelStorage({ kind: 'postgres', url: schema.url, poolSize: 2 });
    rebuilders = { readModels: new ProjectedReadModels({ storage, catalogue, store }) };
    // As a migration that decides differently does: the tables emptied and every feed marked.
    await storage.rebuildForAnotherLog(await store.headPosition());
    const first = await store.readAll({ after: 0n, maxCount: applied });
    await storage.applyEvents(first, (checkpoint, views) => planEvents(checkpoint, views, first, catalogue));
    return storage;
  }

  /** Runs `rebuild` as the feed takes a change of `subjectId` from the outbox, before it reads the subject's view. */
  function whenTheFeedTakesTheOutboxOf(subjectId: string, rebuild: () => Promise<unknown>): () => Promise<unknown> | undefined {
    const storage = feedsReadModels.storage;
    const pendingStateChanges = storage.pendingStateChanges.bind(storage);
    let begun: Promise<unknown> | undefined;
    storage.pendingStateChanges = async (feed, limit) => {
      const page = await pendingStateChanges(feed, limit);
      if (!begun && page.changes.some((change) => change.subjectId === subjectId)) await (begun = rebuild());
      return page;
    };
    return () => begun;
  }

  it('publishes no subject as it stood at an earlier event while the read models rebuild, and the subject as it is once they are back', async () => {
    const anna = uniqueName('subject-anna') as SubjectId;
    const history: LedgerEvent[] = [
      relationshipStarted({ subjectId: anna, occurredAt: '2024-05-01T09:00:00Z' }),
      consentGiven({ subjectId: anna, purpose: PICKX, channels: ['tv-screen'], occurredAt: '2024-05-02T09:00:00Z' }),
      consentWithdrawn({ subjectId: anna, purpose: PICKX, occurredAt: '2024-05-03T09:00:00Z' }),
      consentGiven({ subjectId: anna, purpose: ADS_AND_DATA, channels: ['online-ads'], occurredAt: later(0), expiresAt: later(HOUR) }),
    ];
    const last = await appendToLog(store, ...history);
    await feedsReadModels.waitFor(last);
    const states = () => reader.messages(topics.state, anna);
    await reader.until(() => states().some((message) => message.value.position === last.toString()), 'the state after the last event');

    // The rebuild begins just as the feed takes the expiry from the outbox: after its loop found
    // the read models where it had published, before it reads the subject's view.
    const rebuildBegun = whenTheFeedTakesTheOutboxOf(anna, () => anotherProcessRebuildsUpTo(2));
    await feedsProjections.sweep(later(HOUR + 1_000));
    await feedsProjections.stop();
    await (await reader.until(rebuildBegun, 'the rebuild to begin'));

    // The rebuilding process catches up with the log and looks at what time changed meanwhile.
    rebuilders!.projections = startProjections({ readModels: rebuilders!.readModels, store, sweepEveryMs: 0, log: quiet });
    await rebuilders!.projections.caughtUp(10_000);
    await rebuilders!.projections.sweep(later(HOUR + 2_000));
    const pickxIn = (value: { purposes: { purpose: string; allowed: boolean }[] }) => value.purposes.find((entry) => entry.purpose === PICKX)!.allowed;
    const adsAndDataIn = (value: { purposes: { purpose: string; reason: string }[] }) => value.purposes.find((entry) => entry.purpose === ADS_AND_DATA)!.reason;
    await reader.until(() => states().some((message) => adsAndDataIn(message.value) === 'consent-expired'), 'the expiry on the state topic');
    const said = () => states().map((message) => ({ eventId: message.headers['event-id'], position: message.value.position, pickxAllowed: pickxIn(message.value) }));
    expect(said().filter((message) => message.position !== last.toString() || message.pickxAllowed)).toEqual([]);

    // The republication the rebuild marked follows (a `time-` message after the expiry's), however
    // quickly the rebuild caught up.
    const expiry = states().findIndex((message) => adsAndDataIn(message.value) === 'consent-expired');
    await reader.until(() => states().slice(expiry + 1).some((message) => message.headers['event-id'].startsWith('time-')), 'the republication');
    expect(said().filter((message) => message.position !== last.toString() || message.pickxAllowed)).toEqual([]);
    expect(adsAndDataIn(states().at(-1)!.value)).toBe('consent-expired');
  });

  it('publishes every subject again after a rebuild that began and caught up within one turn of the feed', async () => {
    const bert = uniqueName('subject-bert') as SubjectId;
    const history: LedgerEvent[] = [
      relationshipStarted({ subjectId: bert, occurredAt: '2024-05-01T09:00:00Z' }),
      consentGiven({ subjectId: bert, purpose: ADS_AND_DATA, channels: ['online-ads'], occurredAt: later(0), expiresAt: later(HOUR) }),
    ];
    const last = await appendToLog(store, ...history);
    await feedsReadModels.waitFor(last);
    const states = () => reader.messages(topics.state, bert);
    await reader.until(() => states().some((message) => message.value.position === last.toString()), 'the state after the last event');

    // The whole rebuild happens while the feed is busy with the outbox: it never finds the read
    // models behind it.
    const rebuilt = whenTheFeedTakesTheOutboxOf(bert, () => anotherProcessRebuildsUpTo(history.length));
    await feedsProjections.sweep(later(HOUR + 1_000));
    await (await reader.until(rebuilt, 'the rebuild'));
    const timeDriven = () => states().filter((message) => message.headers['event-id'].startsWith('time-'));
    await reader.until(() => timeDriven().length >= 1, 'the change the sweep queued');

    await reader.until(() => timeDriven().length >= 2, 'the republication the rebuild marked');
    expect(await feedsReadModels.storage.checkpoint(republicationMarkerOf('consent-feed'))).toBe(0n);
  });
});
