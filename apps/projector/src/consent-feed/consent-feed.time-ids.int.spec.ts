import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instant, LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, relationshipStarted } from '@consent-ledger/domain/testing';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { openReadModelStorage, ProjectedReadModels, type Projections, type ReadModelStorageOptions, startProjections } from '@consent-ledger/read-models';
import type { Producer, ProducerBatch } from 'kafkajs';
import { appendToLog } from '../../../../libs/read-models/src/testing/stored-events';
import { createTestSchema, describeWithPostgres, type TestSchema, withClient } from '../../../../test/support/services';
import { consentTopics } from '../kafka/topics';
import { eventually } from '../testing/topic-reader';
import { audienceKeys } from './audience-message';
import { ConsentFeedPublisher } from './consent-feed.publisher';

const topics = consentTopics();
const FEED = 'consent-feed';
const PICKX = 'targeted-tv-advertising-pickx';
const quiet = { warn: () => undefined, error: () => undefined };
const later = (ms: number) => new Date(Date.now() + ms).toISOString() as Instant;
const HOUR = 3_600_000;

/** Where the read models live, and how they are lost (the log survives). */
interface ReadModelPlace {
  readonly storage: ReadModelStorageOptions;
  lose(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Consumers drop a message whose `event-id` they have seen (docs/topics.md). When the read models
 * are lost they rebuild from the log, and the outbox of time-driven changes starts again from
 * nothing. A broker stand-in keeps every state message.
 */
function describeTimeIdsAcrossALoss(describeOn: jest.Describe, where: string, place: () => Promise<ReadModelPlace>): void {
  describeOn(`the ids of changes caused by time, across a loss of the read models (${where})`, () => {
    let readModelPlace: ReadModelPlace;
    let store: EventStore;
    let readModels: ProjectedReadModels;
    let projections: Projections;
    let publisher: ConsentFeedPublisher;
    let sent: { readonly subjectId: string; readonly eventId: string; readonly value: { purposes: { purpose: string; reason: string }[] } }[];
    const brokerStandIn = {
      async sendBatch(batch: ProducerBatch) {
        for (const { topic, messages } of batch.topicMessages ?? []) {
          if (topic !== topics.state) continue;
          for (const message of messages) sent.push({ subjectId: String(message.key), eventId: String(message.headers?.['event-id']), value: JSON.parse(String(message.value)) });
        }
        return [];
      },
    } as unknown as Producer;

    const record = async (...events: LedgerEvent[]) => {
      await readModels.waitFor(await appendToLog(store, ...events));
    };

    const open = async () => {
      const storage = await openReadModelStorage(readModelPlace.storage);
      readModels = new ProjectedReadModels({ storage, catalogue, store });
      projections = startProjections({ readModels, store, sweepEveryMs: 0, log: quiet });
      publisher = new ConsentFeedPublisher({ store, readModels, catalogue, producer: brokerStandIn, topics, keys: audienceKeys(Buffer.alloc(32)), checkpointName: FEED, idleWaitMs: 50, log: quiet });
      publisher.start();
    };

    const close = async () => {
      await publisher.stop();
      await projections.stop();
      await readModels.close();
      await readModels.storage.close();
    };

    /** Records the events, and waits until the feed has published their subjects' state. */
    const recordAndPublish = async (...events: LedgerEvent[]) => {
      await record(...events);
      await eventually(() => events.every((event) => sent.some((message) => message.subjectId === event.data.subjectId)), 'the state of the subjects recorded', 10_000);
    };

    const expiryOf = (subjectId: string) =>
      eventually(
        () =>
          sent.find(
            (message) =>
              message.subjectId === subjectId &&
              message.eventId.startsWith('time-') &&
              message.value.purposes.some((entry) => entry.purpose === PICKX && entry.reason === 'consent-expired'),
          ),
        `the expiry of ${subjectId} on the state topic`,
        10_000,
      );

    beforeEach(async () => {
      sent = [];
      store = createInMemoryEventStore();
      readModelPlace = await place();
      await open();
    });

    afterEach(async () => {
      await close();
      await readModelPlace.remove();
    });

    // Found in review: the id was `time-<outbox sequence>`, and the sequence starts again at 1 in a
    // new state.sqlite (or goes back with a restored database), so the first expiry after the
    // rebuild went out under the id of the first one before it, and a consumer following the
    // documentation dropped it: it kept targeting a person whose consent had lapsed.
    it('gives a consent running out after the read models were rebuilt an id no earlier change had', async () => {
      const anna = 'subject-anna' as SubjectId;
      await recordAndPublish(relationshipStarted({ subjectId: anna }), consentGiven({ subjectId: anna, purpose: PICKX, channels: ['tv-screen'], occurredAt: later(0), expiresAt: later(HOUR) }));
      await projections.sweep(later(HOUR + 1_000));
      const annasExpiry = await expiryOf(anna);

      await close();
      await readModelPlace.lose();
      await open();
      const bert = 'subject-bert' as SubjectId;
      await recordAndPublish(relationshipStarted({ subjectId: bert }), consentGiven({ subjectId: bert, purpose: PICKX, channels: ['tv-screen'], occurredAt: later(0), expiresAt: later(HOUR / 2) }));
      await projections.sweep(later(HOUR / 2 + 1_000));
      const bertsExpiry = await expiryOf(bert);

      expect(bertsExpiry.eventId).not.toEqual(annasExpiry.eventId);
      const seen = new Set(sent.filter((message) => message !== bertsExpiry).map((message) => message.eventId));
      expect(seen.has(bertsExpiry.eventId)).toBe(false);
    });
  });
}

describeTimeIdsAcrossALoss(describe, 'embedded: state.sqlite deleted', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-time-ids-'));
  return {
    storage: { kind: 'sqlite', file: join(directory, 'state.sqlite') },
    lose: async () => rmSync(join(directory, 'state.sqlite')),
    remove: async () => rmSync(directory, { recursive: true, force: true }),
  };
});

describeTimeIdsAcrossALoss(describeWithPostgres, 'PostgreSQL: the read-model tables dropped and made again', async () => {
  const schema: TestSchema = await createTestSchema('cl_time_ids');
  return {
    storage: { kind: 'postgres', url: schema.url, poolSize: 2 },
    lose: async () => {
      await withClient(schema.url, (client) => client.query(`DROP SCHEMA ${schema.schema} CASCADE; CREATE SCHEMA ${schema.schema}`));
    },
    remove: () => schema.drop(),
  };
});
