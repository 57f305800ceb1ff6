import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { Instant, LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, relationshipStarted } from '@consent-ledger/domain/testing';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { openReadModelStorage, ProjectedReadModels, type Projections, republicationMarkerOf, startProjections } from '@consent-ledger/read-models';
import type { Producer, ProducerBatch } from 'kafkajs';
import { setHostClockAhead } from '../../../../libs/read-models/src/testing/host-clock';
import { appendToLog } from '../../../../libs/read-models/src/testing/stored-events';
import { consentTopics } from '../kafka/topics';
import { eventually } from '../testing/topic-reader';
import { audienceKeys } from './audience-message';
import { type ConsentFeedOptions, ConsentFeedPublisher } from './consent-feed.publisher';

const topics = consentTopics();
const FEED = 'consent-feed';
const at = (name: string) => ({ subjectId: `subject-${name}` as SubjectId, occurredAt: '2024-05-01T09:00:00Z' });

/**
 * The feed's pacing of a republication, on embedded read models and a broker stand-in that keeps
 * what it is sent, batch by batch (consent-feed.int.spec.ts covers the real broker). A time-driven
 * state carries `event-id` `time-<hash of the change>`; one caused by an event, that event's id.
 */
describe('the consent feed publishing every subject again after a rebuild (a stand-in for the broker records its batches)', () => {
  let directory: string;
  let store: EventStore;
  let readModels: ProjectedReadModels;
  let projections: Projections;
  let publisher: ConsentFeedPublisher | undefined;
  /** The subjects of each batch of state messages, and whether they were all time-driven. */
  let sent: { readonly subjectIds: string[]; readonly isRepublication: boolean }[];
  let onSend: (batch: ProducerBatch) => Promise<void>;
  const brokerStandIn = {
    async sendBatch(batch: ProducerBatch) {
      for (const { topic, messages } of batch.topicMessages ?? []) {
        if (topic !== topics.state) continue;
        const isRepublication = messages.every((message) => String(message.headers?.['event-id']).startsWith('time-'));
        sent.push({ subjectIds: messages.map((message) => String(message.key)), isRepublication });
      }
      await onSend(batch);
      return [];
    },
  } as unknown as Producer;

  const record = async (...events: LedgerEvent[]) => {
    const position = await appendToLog(store, ...events);
    await readModels.waitFor(position);
    return position;
  };

  /** A feed on the embedded read models and the broker stand-in, looking for news every 50 ms. */
  const feed = (options: Partial<ConsentFeedOptions> = {}) =>
    new ConsentFeedPublisher({
      store,
      readModels,
      catalogue,
      producer: brokerStandIn,
      topics,
      keys: audienceKeys(Buffer.alloc(32)),
      checkpointName: FEED,
      idleWaitMs: 50,
      log: { warn: () => undefined, error: () => undefined },
      ...options,
    });

  beforeEach(async () => {
    sent = [];
    onSend = async () => undefined;
    store = createInMemoryEventStore();
    directory = mkdtempSync(join(tmpdir(), 'consent-ledger-feed-'));
    const storage = await openReadModelStorage({ kind: 'sqlite', file: join(directory, 'state.sqlite') });
    readModels = new ProjectedReadModels({ storage, catalogue, store });
    projections = startProjections({ readModels, store, sweepEveryMs: 0, log: { warn: () => undefined, error: () => undefined } });
  });

  afterEach(async () => {
    jest.useRealTimers();
    await publisher?.stop();
    publisher = undefined;
    await projections.stop();
    await readModels.close();
    await readModels.storage.close();
    rmSync(directory, { recursive: true, force: true });
  });

  // Found in review: a deployment publishing its own topics from read models another deployment
  // keeps under an edited catalogue sent state decided by its own catalogue beside audience rows
  // decided by the other, and nothing said why they disagreed.
  it('publishes nothing from read models that follow other catalogue rules than its own, and says why', async () => {
    await record(relationshipStarted(at('a')));
    expect(await readModels.storage.followCatalogue({ version: 'keepers-catalogue', digest: 'other-rules' })).toEqual({ outcome: 'recorded' });
    await record(relationshipStarted(at('b')));
    const errors: string[] = [];
    publisher = feed({ log: { warn: () => undefined, error: (message) => errors.push(message) } });
    publisher.start();
    await eventually(async () => errors.length > 0, 'the feed saying why it waits', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(sent).toEqual([]);
    expect(errors[0]).toMatch(/keepers-catalogue/);
  });

  it('publishes a page of subjects once the one before is out, and the log\'s news in between', async () => {
    const position = await record(...['a', 'b', 'c', 'd', 'e'].map((name) => relationshipStarted(at(name))));
    // What a migration that rebuilt the read models leaves for a feed that had published it all.
    await readModels.storage.saveCheckpoint(FEED, position);
    await readModels.storage.saveCheckpoint(republicationMarkerOf(FEED), position);
    // A subject recorded while the first page is on its way: its own state goes out before the next page.
    onSend = async () => {
      onSend = async () => undefined;
      await record(relationshipStarted(at('z')));
    };
    publisher = feed({ republicationPageSize: 2 });
    publisher.start();

    const isEveryPageOut = async () =>
      (await readModels.storage.checkpoint(republicationMarkerOf(FEED))) === 0n && (await readModels.storage.pendingStateChanges(FEED, 1)).lastSequence === undefined;
    await eventually(isEveryPageOut, 'the last page published', 10_000);

    expect(sent).toEqual([
      { subjectIds: ['subject-a', 'subject-b'], isRepublication: true },
      { subjectIds: ['subject-z'], isRepublication: false },
      { subjectIds: ['subject-c', 'subject-d'], isRepublication: true },
      { subjectIds: ['subject-e', 'subject-z'], isRepublication: true },
    ]);
  });

  // Found in review: the feed judged the sweep's progress by its own host's clock. Running an hour
  // ahead of the database's, it took every subject due within that hour for one the sweep had not
  // reached, and at national scale some always are: the republication never went out.
  it("republishes when its host's clock runs ahead of the database's, by which the sweep goes", async () => {
    const inHalfAnHour = new Date(Date.now() + 30 * 60_000).toISOString() as Instant;
    const now = new Date().toISOString();
    const position = await record(
      relationshipStarted({ ...at('a'), occurredAt: now }),
      consentGiven({ ...at('a'), occurredAt: now, purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], expiresAt: inHalfAnHour }),
    );
    await readModels.storage.saveCheckpoint(FEED, position);
    await readModels.storage.saveCheckpoint(republicationMarkerOf(FEED), position);

    setHostClockAhead(3_600_000);
    publisher = feed();
    publisher.start();
    await eventually(async () => sent.length > 0, 'the republication published', 5_000);

    expect(sent).toEqual([{ subjectIds: ['subject-a'], isRepublication: true }]);
  });
});
