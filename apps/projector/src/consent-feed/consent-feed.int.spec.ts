import { randomUUID } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import { type Instant, type LedgerEvent, PROOF_RETENTION_RUN_SCHEMA_VERSION, PROOF_RETENTION_RUNS_STREAM, type ProofRetentionRunCompleted, type SubjectId } from '@consent-ledger/domain';
import { consentGiven, relationshipStarted, subjectErased } from '@consent-ledger/domain/testing';
import { republicationMarkerOf } from '@consent-ledger/read-models';
import { appendToLog, ledgerStream } from '../../../../libs/read-models/src/testing/stored-events';
import { describeWithKafka, uniqueName } from '../../../../test/support/services';
import type { ProjectorConfig } from '../config';
import { createProjector } from '../projector';
import { ProjectorResources } from '../projector-resources';
import { testProjectorConfig } from '../testing/test-config';
import { eventually, TopicReader } from '../testing/topic-reader';
import { ensureTopics } from '../kafka/kafka-client';
import { consentTopics } from '../kafka/topics';
import { type ConsentFeedOptions, ConsentFeedPublisher } from './consent-feed.publisher';
import { adsAndDataKeyOf, audienceKeys } from './audience-message';

const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';

describeWithKafka('consent feed: the ledger on Kafka, published from the log', () => {
  let config: ProjectorConfig;
  let app: INestMicroservice;
  let resources: ProjectorResources;
  let reader: TopicReader;

  beforeAll(async () => {
    config = testProjectorConfig({ sweepEveryMs: 500 });
    app = await createProjector(config, { logger: false });
    await app.listen();
    resources = app.get(ProjectorResources);
    const { topics } = resources;
    reader = await TopicReader.open(config.kafkaBrokers, [topics.events, topics.state, topics.pickxTvAds, topics.adsAndData]);
  });

  afterAll(async () => {
    await reader?.close();
    await app?.close();
  });

  const record = (...events: LedgerEvent[]) => appendToLog(resources.store, ...events);
  const newSubject = () => uniqueName('subject') as SubjectId;

  /** A feed on topics of its own (another deployment sharing these read models), not started yet. */
  const feedOfItsOwn = async (name: string, options: Partial<ConsentFeedOptions> = {}) => {
    // Runs sharing a broker keep their topics apart by a prefix of their own (test-config.ts).
    const prefix = `${process.env.TEST_KAFKA_TOPIC_PREFIX ?? ''}${uniqueName(name)}.`;
    const topics = consentTopics(prefix);
    const admin = resources.kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, 1, 1);
    await admin.disconnect();
    const checkpointName = `${prefix}feed`;
    const publisher = new ConsentFeedPublisher({
      store: resources.store,
      readModels: resources.readModels,
      catalogue: resources.catalogue,
      producer: resources.producer,
      topics,
      keys: audienceKeys(resources.adsAndDataKey),
      checkpointName,
      log: { warn: () => undefined, error: () => undefined },
      ...options,
    });
    return { topics, publisher, checkpointName };
  };

  it('publishes every event keyed by subject, the subject state, and the audiences the subject joined', async () => {
    const subjectId = newSubject();
    const sealed = await resources.vault.seal(subjectId, 'ann@example.com');
    const position = await record(
      relationshipStarted({ subjectId }),
      { ...consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }), data: { ...consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }).data, personalData: sealed } },
      consentGiven({ subjectId, purpose: ADS_AND_DATA, channels: ['online-ads'] }),
    );
    const { topics } = resources;

    const events = await reader.until(() => reader.messages(topics.events, subjectId).length === 3 && reader.messages(topics.events, subjectId), 'three events');
    expect(events.map((message) => message.value.eventType)).toEqual(['RelationshipStarted', 'ConsentGiven', 'ConsentGiven']);
    expect(events[1].value).toMatchObject({ schemaVersion: 1, subjectId, revision: 1, data: { purpose: PICKX } });
    expect(events[1].value.data).not.toHaveProperty('personalData');
    expect(JSON.stringify(events)).not.toContain('sealed:');
    expect(events[2].headers).toMatchObject({ 'event-id': events[2].value.eventId, 'schema-version': '1', position: position.toString() });

    const state = await reader.until(() => reader.messages(topics.state, subjectId).find((message) => message.value?.position === position.toString()), 'the state after the last event');
    const decisionFor = (purpose: string) => state.value.purposes.find((entry: { purpose: string }) => entry.purpose === purpose);
    expect(state.value).toMatchObject({ schemaVersion: 1, subjectId, brand: 'proximus', erased: false });
    expect(decisionFor(PICKX)).toMatchObject({ allowed: true, reason: 'consent-active' });

    const pickx = await reader.until(() => reader.messages(topics.pickxTvAds, subjectId)[0], 'the Pickx audience');
    expect(pickx.value).toEqual({ schemaVersion: 1, member: true, since: '2024-05-01T09:00:00.000Z', validUntil: null });
  });

  // Found in review: a leader paused past its lease (SIGSTOP, a long GC) woke and sent the batch it
  // had built before; only its checkpoint save was refused, and its older state stayed the
  // subject's last value on the compacted topic.
  it('sends nothing once its lease may have run out, and steps down', async () => {
    let holdsLease = true;
    let steppedDown = false;
    const { topics, publisher } = await feedOfItsOwn('cl_lease', { mayPublish: () => holdsLease });
    const leaseReader = await TopicReader.open(config.kafkaBrokers, [topics.state]);
    try {
      publisher.start(() => (steppedDown = true));
      const subjectId = newSubject();
      const published = await record(relationshipStarted({ subjectId }));
      await leaseReader.until(() => leaseReader.messages(topics.state, subjectId).find((message) => message.value?.position === published.toString()), 'the state while leading');

      holdsLease = false;
      const afterwards = await record(consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }));
      await eventually(() => steppedDown, 'the publisher stepping down');
      await resources.readModels.waitFor(afterwards, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(leaseReader.messages(topics.state, subjectId).map((message) => message.value.position)).toEqual([published.toString()]);
    } finally {
      await publisher.stop();
      await leaseReader.close();
    }
  });

  it('keys Ads & Data by a keyed hash, so nothing on its topic names the subject', async () => {
    const subjectId = newSubject();
    await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: ADS_AND_DATA, channels: ['online-ads'] }));
    const key = adsAndDataKeyOf(subjectId, config.adsAndDataKey!);

    const message = await reader.until(() => reader.messages(resources.topics.adsAndData, key)[0], 'the Ads & Data membership');
    expect(message.value).toMatchObject({ member: true });
    expect(JSON.stringify(message)).not.toContain(subjectId);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers an erasure with tombstones on the state and both audience topics, and destroys the key', async () => {
    const subjectId = newSubject();
    await resources.vault.seal(subjectId, 'bob@example.com');
    await record(
      relationshipStarted({ subjectId }),
      consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }),
      consentGiven({ subjectId, purpose: ADS_AND_DATA, channels: ['online-ads'] }),
      subjectErased({ subjectId, occurredAt: '2024-06-01T09:00:00Z' }),
    );
    const { topics } = resources;
    const adsKey = adsAndDataKeyOf(subjectId, config.adsAndDataKey!);

    await reader.until(() => reader.messages(topics.state, subjectId).some((message) => message.value === null), 'a state tombstone');
    await reader.until(() => reader.messages(topics.pickxTvAds, subjectId).some((message) => message.value === null), 'a Pickx tombstone');
    await reader.until(() => reader.messages(topics.adsAndData, adsKey).some((message) => message.value === null), 'an Ads & Data tombstone');
    await reader.until(() => reader.messages(topics.events, subjectId).some((message) => message.value.eventType === 'SubjectErased'), 'the erasure event');
    expect(await resources.vault.hasKey(subjectId)).toBe(false);
  });

  it('tells an audience nothing about an erased subject that never was in it', async () => {
    const neverMember = newSubject();
    await record(relationshipStarted({ subjectId: neverMember }), consentGiven({ subjectId: neverMember, purpose: ADS_AND_DATA, channels: ['online-ads'] }), subjectErased({ subjectId: neverMember }));
    const { topics } = resources;
    await reader.until(() => reader.messages(topics.state, neverMember).some((message) => message.value === null), 'the state tombstone');
    // Published after the first erasure was acknowledged by the broker: once its Pickx tombstone
    // is here, anything the first one sent to that topic is here too.
    const member = newSubject();
    await record(relationshipStarted({ subjectId: member }), consentGiven({ subjectId: member, purpose: PICKX, channels: ['tv-screen'] }), subjectErased({ subjectId: member }));
    await reader.until(() => reader.messages(topics.pickxTvAds, member).some((message) => message.value === null), 'the member\'s Pickx tombstone');

    expect(reader.messages(topics.pickxTvAds, neverMember)).toEqual([]);
    await reader.until(() => reader.messages(topics.adsAndData, adsAndDataKeyOf(neverMember, config.adsAndDataKey!)).some((message) => message.value === null), 'the Ads & Data tombstone');
  });

  /** What the proof-retention job does to a record whose retention ended: removes its stream, then records the run. */
  const removeByProofRetention = async (subjectIds: readonly SubjectId[], { dryRun = false, streamsRemoved = false } = {}) => {
    const runId = randomUUID();
    const removedAt = '2031-05-01T00:00:00.000Z' as Instant;
    const removed = subjectIds.map((subjectId) => ({ subjectId, removableFrom: removedAt, eventsRemoved: 2 }));
    if (!dryRun && !streamsRemoved) for (const subjectId of subjectIds) await resources.store.removeStream(ledgerStream(subjectId), { reason: 'proof retention ended', removedAt });
    const run: ProofRetentionRunCompleted['data'] = { runId, startedAt: removedAt, finishedAt: removedAt, catalogueVersion: 'test', dryRun, subjectsChecked: subjectIds.length, removed, failures: [] };
    const appended = await resources.store.append(
      PROOF_RETENTION_RUNS_STREAM,
      [{ eventId: runId, type: 'ProofRetentionRunCompleted', schemaVersion: PROOF_RETENTION_RUN_SCHEMA_VERSION, data: run as unknown as Record<string, unknown> }],
      { expectedRevision: 'any' },
    );
    return appended.position;
  };

  // Found by a consumer team: the job removes a record from the ledger, and the compacted topics
  // kept its last state and memberships for good, so every consumer kept the subject too.
  it('tells consumers to forget a subject whose record the proof-retention job removed', async () => {
    const removed = newSubject();
    const neverMember = newSubject();
    await record(
      relationshipStarted({ subjectId: removed }),
      consentGiven({ subjectId: removed, purpose: PICKX, channels: ['tv-screen'] }),
      consentGiven({ subjectId: removed, purpose: ADS_AND_DATA, channels: ['online-ads'] }),
      relationshipStarted({ subjectId: neverMember }),
    );
    const { topics } = resources;
    await reader.until(() => reader.messages(topics.pickxTvAds, removed)[0], 'the membership');
    await reader.until(() => reader.messages(topics.state, neverMember)[0], 'the other subject\'s state');

    const position = await removeByProofRetention([removed, neverMember]);

    const stateTombstone = await reader.until(() => reader.messages(topics.state, removed).find((message) => message.value === null), 'a state tombstone');
    await reader.until(() => reader.messages(topics.pickxTvAds, removed).find((message) => message.value === null), 'a Pickx tombstone');
    await reader.until(() => reader.messages(topics.state, neverMember).find((message) => message.value === null), 'the other subject\'s state tombstone');
    await reader.until(() => reader.messages(topics.adsAndData, adsAndDataKeyOf(removed, config.adsAndDataKey!)).find((message) => message.value === null), 'an Ads & Data tombstone');
    expect(stateTombstone.headers).toMatchObject({ position: position.toString(), 'schema-version': '1' });
    // A consumer de-duplicating by event id across keys must not drop the second subject's tombstone.
    const ids = [removed, neverMember].map((subjectId) => reader.messages(topics.state, subjectId).find((message) => message.value === null)!.headers['event-id']);
    expect(new Set(ids).size).toBe(2);
    expect(reader.messages(topics.pickxTvAds, neverMember)).toEqual([]);
  });

  it('sends no tombstone for a dry run, nor for a subject recorded again before the run was published', async () => {
    const kept = newSubject();
    const back = newSubject();
    await record(relationshipStarted({ subjectId: kept }), relationshipStarted({ subjectId: back }));
    await reader.until(() => reader.messages(resources.topics.state, back)[0], 'the state');
    await removeByProofRetention([kept], { dryRun: true });
    await resources.store.removeStream(ledgerStream(back), { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });
    // The same id given to a new person between the removal and the run's record: its stream starts again.
    await record(relationshipStarted({ subjectId: back }));
    await removeByProofRetention([back], { streamsRemoved: true });
    const marker = newSubject();
    const last = await record(relationshipStarted({ subjectId: marker }));
    await reader.until(() => reader.messages(resources.topics.state, marker).find((message) => message.value?.position === last.toString()), 'a later state');

    expect(reader.messages(resources.topics.state, kept).filter((message) => message.value === null)).toEqual([]);
    expect(reader.messages(resources.topics.state, back).filter((message) => message.value === null)).toEqual([]);
  });

  // The decision rows keep Scarlet's decisions for such a subject: the topic must carry them too,
  // or Scarlet's team finds the subject in one and not the other.
  it("carries Scarlet's decisions for a Proximus customer who subscribed on a Scarlet touchpoint, as the decision rows do", async () => {
    const subjectId = newSubject();
    const position = await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, brand: 'scarlet', purpose: 'newsletter-prospects', channels: ['email'] }));
    const state = await reader.until(
      () => reader.messages(resources.topics.state, subjectId).find((message) => message.value?.position === position.toString()),
      'the state after the Scarlet subscription',
    );
    expect(state.value).toMatchObject({ brand: 'proximus', otherBrands: [{ brand: 'scarlet' }] });
    const newsletter = (purposes: { purpose: string }[]) => purposes.find((entry) => entry.purpose === 'newsletter-prospects');
    expect(newsletter(state.value.otherBrands[0].purposes)).toMatchObject({ allowed: true, channels: ['email'] });
    expect(newsletter(await resources.readModels.storage.decisionRows(subjectId, 'scarlet'))).toMatchObject({ allowed: true, channels: ['email'] });
  });

  // Found in review: the Ads & Data membership followed the brand whose relationship changed last,
  // so a Proximus customer who became a Scarlet customer too was told they had left.
  it('keeps a Proximus customer in the Ads & Data audience when they become a Scarlet customer too', async () => {
    const subjectId = newSubject();
    const key = adsAndDataKeyOf(subjectId, config.adsAndDataKey!);
    const position = await record(
      relationshipStarted({ subjectId }),
      consentGiven({ subjectId, purpose: ADS_AND_DATA, channels: ['online-ads'] }),
      relationshipStarted({ subjectId, brand: 'scarlet', occurredAt: '2024-06-01T09:00:00Z' }),
    );
    const { topics } = resources;
    const state = await reader.until(() => reader.messages(topics.state, subjectId).find((message) => message.value?.position === position.toString()), 'the state after the Scarlet start');
    expect(state.value).toMatchObject({ brand: 'scarlet', otherBrands: [{ brand: 'proximus' }] });
    // Published after the first subject's last event was acknowledged: once its membership is here, anything sent before it is too.
    const later = newSubject();
    await record(relationshipStarted({ subjectId: later }), consentGiven({ subjectId: later, purpose: ADS_AND_DATA, channels: ['online-ads'] }));
    await reader.until(() => reader.messages(topics.adsAndData, adsAndDataKeyOf(later, config.adsAndDataKey!))[0], 'the later membership');

    expect(reader.messages(topics.adsAndData, key).map((message) => message.value)).toEqual([
      { schemaVersion: 1, member: true, since: '2024-05-01T09:00:00.000Z', validUntil: null },
    ]);
  });

  // Found in review: an erased subject kept the expiry of its consent, and the sweep sent its
  // tombstones again when that instant came.
  it('sends an erased subject\'s tombstones once, not again when a consent the erasure stopped would have run out', async () => {
    const erased = newSubject();
    const now = new Date().toISOString();
    await record(
      relationshipStarted({ subjectId: erased }),
      consentGiven({ subjectId: erased, purpose: PICKX, channels: ['tv-screen'], occurredAt: now, expiresAt: new Date(Date.now() + 1500).toISOString() as Instant }),
      subjectErased({ subjectId: erased, occurredAt: now }),
    );
    // Runs out a little later: once the feed has published that, the sweep has passed the erased subject's expiry too.
    const control = newSubject();
    await record(
      relationshipStarted({ subjectId: control }),
      consentGiven({ subjectId: control, purpose: PICKX, channels: ['tv-screen'], occurredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 1600).toISOString() as Instant }),
    );
    const { topics } = resources;
    await reader.until(() => reader.messages(topics.pickxTvAds, control).find((message) => message.value?.member === false), 'the control membership to end', 10_000);

    for (const topic of [topics.state, topics.pickxTvAds]) {
      const tombstones = reader.messages(topic, erased).filter((message) => message.value === null);
      expect(tombstones.map((message) => message.headers['event-id'])).toEqual([expect.not.stringMatching(/^time-/)]);
    }
  });

  it('sends no tombstone again for a change caused by time that was queued before the erasure', async () => {
    const { topics, publisher, checkpointName } = await feedOfItsOwn('cl_erased', { idleWaitMs: 200 });
    await resources.readModels.storage.followStateChanges(checkpointName);
    const subjectId = newSubject();
    const expiresAt = new Date(Date.now() + 1000).toISOString() as Instant;
    await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'], occurredAt: new Date().toISOString(), expiresAt }));
    // Published by this deployment's feed, so queued for the other one too, which has not started.
    await reader.until(() => reader.messages(resources.topics.pickxTvAds, subjectId).find((message) => message.value?.member === false), 'the membership to end', 10_000);
    await record(subjectErased({ subjectId, occurredAt: new Date().toISOString() }));

    const feedReader = await TopicReader.open(config.kafkaBrokers, [topics.state, topics.pickxTvAds]);
    try {
      publisher.start();
      await eventually(async () => (await resources.readModels.storage.pendingStateChanges(checkpointName, 10)).lastSequence === undefined, 'the queued change published', 10_000);
      // Recorded once the queued change was published: once it is here, everything sent before it is too.
      const later = newSubject();
      await record(relationshipStarted({ subjectId: later }), consentGiven({ subjectId: later, purpose: PICKX, channels: ['tv-screen'] }));
      await feedReader.until(() => feedReader.messages(topics.pickxTvAds, later)[0], 'the later membership');

      for (const topic of [topics.state, topics.pickxTvAds]) {
        expect(feedReader.messages(topic, subjectId).filter((message) => message.value === null).map((message) => message.headers['event-id'])).toEqual([
          expect.not.stringMatching(/^time-/),
        ]);
      }
    } finally {
      await publisher.stop();
      await feedReader.close();
    }
  });

  it('publishes a consent running out without anyone sending a command', async () => {
    const subjectId = newSubject();
    const expiresAt = new Date(Date.now() + 1500).toISOString() as Instant;
    await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'], occurredAt: new Date().toISOString(), expiresAt }));
    const { topics } = resources;

    const joined = await reader.until(() => reader.messages(topics.pickxTvAds, subjectId)[0], 'the membership');
    expect(joined.value).toMatchObject({ member: true, validUntil: expiresAt });

    const left = await reader.until(() => reader.messages(topics.pickxTvAds, subjectId).find((message) => message.value?.member === false), 'the membership to end', 10_000);
    expect(left.value).toEqual({ schemaVersion: 1, member: false, since: expiresAt, validUntil: null });
    expect(left.headers['event-id']).toMatch(/^time-[0-9a-f]{32}$/);
    const state = await reader.until(() => reader.messages(topics.state, subjectId).find((message) => message.headers['event-id'] === left.headers['event-id']), 'the state after the expiry');
    expect(state.value.purposes.find((entry: { purpose: string }) => entry.purpose === PICKX)).toMatchObject({ allowed: false, reason: 'consent-expired' });
  });

  // Found in review: every change caused by time sent the subject's audience memberships again,
  // so Ads & Data and Pickx learned when an unrelated choice of the person ran out.
  it('tells an audience nothing when time changes another purpose of its member', async () => {
    const subjectId = newSubject();
    const expiresAt = new Date(Date.now() + 1500).toISOString() as Instant;
    await record(
      relationshipStarted({ subjectId }),
      consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }),
      consentGiven({ subjectId, purpose: 'customer-profiling-consent-based', occurredAt: new Date().toISOString(), expiresAt }),
    );
    const { topics } = resources;
    await reader.until(() => reader.messages(topics.pickxTvAds, subjectId)[0], 'the membership');
    const expired = await reader.until(
      () => reader.messages(topics.state, subjectId).find((message) => message.headers['event-id'].startsWith('time-')),
      'the state after the expiry',
      10_000,
    );
    expect(expired.value.purposes.find((entry: { purpose: string }) => entry.purpose === 'customer-profiling-consent-based')).toMatchObject({ reason: 'consent-expired' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(reader.messages(topics.pickxTvAds, subjectId)).toHaveLength(1);
  });

  it('publishes a consent running out while other subjects keep recording choices', async () => {
    const subjectId = newSubject();
    const expiresAt = new Date(Date.now() + 1500).toISOString() as Instant;
    await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'], occurredAt: new Date().toISOString(), expiresAt }));
    // Its own reader of the one topic: the traffic's state messages would keep the shared one busy.
    const pickxReader = await TopicReader.open(config.kafkaBrokers, [resources.topics.pickxTvAds]);
    // Steady traffic: the feed finds news in the log every time it looks.
    let isTrafficOn = true;
    const traffic = (async () => {
      while (isTrafficOn) await record(relationshipStarted({ subjectId: newSubject() }));
    })();
    try {
      const left = await pickxReader.until(
        () => pickxReader.messages(resources.topics.pickxTvAds, subjectId).find((message) => message.value?.member === false),
        'the membership to end while the log keeps moving',
        10_000,
      );
      expect(left.headers['event-id']).toMatch(/^time-[0-9a-f]{32}$/);
    } finally {
      isTrafficOn = false;
      await traffic;
      await pickxReader.close();
    }
  });

  // Found in review: deployments with topics of their own share the read models (a feed per topic
  // prefix, ADR 0005), and the first feed to look took each change caused by time from the others.
  it('publishes a consent running out on the topics of every deployment sharing the read models', async () => {
    const { topics: otherTopics, publisher: other } = await feedOfItsOwn('cl_other', { idleWaitMs: 200 });
    const otherReader = await TopicReader.open(config.kafkaBrokers, [otherTopics.pickxTvAds]);
    try {
      other.start();
      const subjectId = newSubject();
      const expiresAt = new Date(Date.now() + 1500).toISOString() as Instant;
      await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'], occurredAt: new Date().toISOString(), expiresAt }));
      const ended = (messages: { value: { member?: boolean } | null }[]) => messages.find((message) => message.value?.member === false);
      await reader.until(() => ended(reader.messages(resources.topics.pickxTvAds, subjectId)), 'the membership to end for this deployment', 10_000);
      await otherReader.until(() => ended(otherReader.messages(otherTopics.pickxTvAds, subjectId)), 'the membership to end for the other deployment', 10_000);
    } finally {
      await other.stop();
      await otherReader.close();
    }
  });

  // A new version that decides differently rebuilds the read models; before, a subject's value on
  // the topics stayed as the old rules made it until the subject's next event, possibly years.
  it('publishes every subject again once a new version has rebuilt the read models', async () => {
    const { topics, publisher, checkpointName } = await feedOfItsOwn('cl_rules', { idleWaitMs: 200 });
    const feedReader = await TopicReader.open(config.kafkaBrokers, [topics.state]);
    try {
      publisher.start();
      const subjectId = newSubject();
      const position = await record(relationshipStarted({ subjectId }));
      const first = await feedReader.until(() => feedReader.messages(topics.state, subjectId).find((message) => message.value?.position === position.toString()), 'the state');
      await publisher.stop();

      // What such a migration leaves before the feed starts again (MARK_FEEDS_FOR_REPUBLICATION): a marker at what it had published.
      await resources.readModels.storage.saveCheckpoint(republicationMarkerOf(checkpointName), await resources.readModels.storage.checkpoint(checkpointName));
      publisher.start();

      const again = await feedReader.until(
        () => feedReader.messages(topics.state, subjectId).find((message) => message.headers['event-id'].startsWith('time-')),
        'the state published again',
        10_000,
      );
      expect(again.value).toMatchObject({ subjectId, position: position.toString(), purposes: first.value.purposes });
      expect(await resources.readModels.storage.checkpoint(republicationMarkerOf(checkpointName))).toBe(0n);
    } finally {
      await publisher.stop();
      await feedReader.close();
    }
  });
});
