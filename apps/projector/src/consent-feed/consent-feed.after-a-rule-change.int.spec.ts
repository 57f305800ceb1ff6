import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Catalogue, type LedgerEvent, loadCatalogue, type SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, relationshipStarted, subjectErased } from '@consent-ledger/domain/testing';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { createReadModels, type ReadModelStorageOptions, startProjections } from '@consent-ledger/read-models';
import type { Producer, ProducerBatch } from 'kafkajs';
import operatorCatalogue from '../../../../catalogues/proximus.json';
import { appendToLog } from '../../../../libs/read-models/src/testing/stored-events';
import { consentTopics } from '../kafka/topics';
import { eventually } from '../testing/topic-reader';
import { audienceKeys } from './audience-message';
import { ConsentFeedPublisher } from './consent-feed.publisher';

const topics = consentTopics();
const FEED = 'consent-feed';
const PICKX = 'targeted-tv-advertising-pickx';
const keys = audienceKeys(Buffer.alloc(32));
const of = (day: number) => ({ subjectId: 'subject-member' as SubjectId, occurredAt: `2024-05-0${day}T09:00:00Z` });

/** The operator's catalogue with Pickx TV ads no longer for Proximus customers: rules under which a Proximus customer never was a member. */
const pickxNotForProximus: Catalogue = loadCatalogue({
  ...operatorCatalogue,
  catalogueVersion: `${operatorCatalogue.catalogueVersion}-pickx-scarlet-only`,
  purposes: operatorCatalogue.purposes.map((purpose) => (purpose.id === PICKX ? { ...purpose, excludedBrands: ['proximus'] } : purpose)),
});

/**
 * Found in review: after a rebuild under rules that never admitted a subject the Pickx partner had
 * been told was a member, the subject was told it left only by the republication, which leaves
 * erased subjects out; erased before the republication reached it, the subject had no row to send
 * a tombstone for, and the partner kept the person as a member for ever.
 */
describe('the Pickx partner after a rule change (a stand-in for the broker records what it is sent)', () => {
  let directory: string;
  let store: EventStore;
  let pickxMessages: { key: string; value: string | null }[];
  let stateMessages: { eventId: string; value: string | null }[];
  const brokerStandIn = {
    async sendBatch(batch: ProducerBatch) {
      for (const { topic, messages } of batch.topicMessages ?? []) {
        if (topic === topics.pickxTvAds) pickxMessages.push(...messages.map((message) => ({ key: String(message.key), value: message.value === null ? null : String(message.value) })));
        if (topic === topics.state) stateMessages.push(...messages.map((message) => ({ eventId: String(message.headers?.['event-id']), value: message.value === null ? null : String(message.value) })));
      }
      return [];
    },
  } as unknown as Producer;

  beforeEach(() => {
    pickxMessages = [];
    stateMessages = [];
    store = createInMemoryEventStore();
    directory = mkdtempSync(join(tmpdir(), 'consent-ledger-feed-rules-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const storage: () => ReadModelStorageOptions = () => ({ kind: 'sqlite', file: join(directory, 'state.sqlite') });
  const record = async (...events: LedgerEvent[]) => {
    await appendToLog(store, ...events);
  };

  /** The read models kept under `rules`, and the feed publishing from them, until `done` says so. */
  async function publishUnder(rules: Catalogue, done: () => Promise<boolean>, before: () => Promise<void> = async () => undefined) {
    const readModels = await createReadModels({ storage: storage(), catalogue: rules, store, keepsThem: true, log: { warn: () => undefined } });
    const projections = startProjections({ readModels, store, sweepEveryMs: 0, log: { warn: () => undefined, error: () => undefined } });
    await projections.caughtUp(10_000);
    await before();
    await readModels.waitFor(await store.headPosition());
    const publisher = new ConsentFeedPublisher({ store, readModels, catalogue: rules, producer: brokerStandIn, topics, keys, checkpointName: FEED, idleWaitMs: 50, log: { warn: () => undefined, error: () => undefined } });
    publisher.start();
    try {
      await eventually(done, 'the feed to publish', 10_000);
    } finally {
      await publisher.stop();
      await projections.stop();
      await readModels.close();
    }
  }

  it('sends a tombstone for a member under the old rules who is erased before the republication reaches it', async () => {
    await record(relationshipStarted(of(1)), consentGiven({ ...of(2), purpose: PICKX }));
    await publishUnder(catalogue, async () => pickxMessages.length > 0);
    expect(pickxMessages).toEqual([{ key: expect.any(String), value: expect.stringContaining('"member":true') }]);
    const [{ key }] = pickxMessages;

    await publishUnder(pickxNotForProximus, async () => pickxMessages.some((message) => message.value === null), () => record(subjectErased(of(3))));

    expect(pickxMessages.at(-1)).toEqual({ key, value: null });
  });

  // Found in review: the id of a republished state was a hash of the subject, the instant it was
  // evaluated at and the value, and a rebuild evaluates a subject without news at its last event,
  // as every rebuild before it did. A new version rolled back and deployed again thus sent each
  // such subject's value under the id of the first deployment's message, and a consumer dropping
  // ids it has seen (docs/topics.md) kept the value of the rollback.
  it('gives a consumer that drops ids it has seen the current value when rules come back after a rollback', async () => {
    await record(relationshipStarted(of(1)), consentGiven({ ...of(2), purpose: PICKX }));
    const pickxReasonIn = (value: string | null | undefined) =>
      (JSON.parse(value ?? '{"purposes":[]}') as { purposes: { purpose: string; reason: string }[] }).purposes.find((entry) => entry.purpose === PICKX)?.reason;
    const pickxReasonHeldByTheConsumer = () => {
      const seen = new Set<string>();
      let held: string | null = null;
      for (const { eventId, value } of stateMessages) {
        if (seen.has(eventId)) continue;
        seen.add(eventId);
        held = value;
      }
      return pickxReasonIn(held);
    };
    const oneMoreStateMessage = () => {
      const before = stateMessages.length;
      return async () => stateMessages.length > before;
    };

    await publishUnder(catalogue, oneMoreStateMessage());
    await publishUnder(pickxNotForProximus, oneMoreStateMessage());
    expect(pickxReasonIn(stateMessages.at(-1)?.value)).toBe('not-applicable-to-brand');
    await publishUnder(catalogue, oneMoreStateMessage());
    expect(pickxReasonIn(stateMessages.at(-1)?.value)).toBe('consent-active');
    await publishUnder(pickxNotForProximus, oneMoreStateMessage());

    expect(pickxReasonIn(stateMessages.at(-1)?.value)).toBe('not-applicable-to-brand');
    expect(pickxReasonHeldByTheConsumer()).toBe('not-applicable-to-brand');
  });
});
