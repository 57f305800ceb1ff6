import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { describeWithKafka, kafkaTestBrokers, uniqueName } from '../../../../test/support/services';
import { ensureTopics } from './kafka-client';
import { consentTopics, type ConsentTopics } from './topics';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// Found in review: the broker deletes a segment once its newest message is past the retention, and
// Kafka rolls segments every 7 days by default, so a command sent with contact details in clear
// stayed on consent.commands.v1 up to 14 days, where docs/topics.md promised 7.
describeWithKafka('the topics the projector creates', () => {
  const topics: ConsentTopics = consentTopics(`${process.env.TEST_KAFKA_TOPIC_PREFIX ?? ''}${uniqueName('cl_test')}.`);
  let admin: Admin;

  beforeAll(async () => {
    admin = new Kafka({ clientId: uniqueName('topics-spec'), brokers: kafkaTestBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureTopics(admin, topics, 1, 1);
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin?.disconnect();
  });

  /** How long after it was sent a message is deleted at the latest: the retention, and the time its segment may stay open. */
  async function keptAtMost(topic: string): Promise<{ retentionMs: number; segmentMs: number }> {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'segment.ms'] }] });
    const value = (name: string) => Number(resources[0].configEntries.find((entry) => entry.configName === name)?.configValue);
    return { retentionMs: value('retention.ms'), segmentMs: value('segment.ms') };
  }

  it('deletes a command sent to the command topic at most an hour after its 7 days', async () => {
    expect(await keptAtMost(topics.commands)).toEqual({ retentionMs: 7 * DAY_MS, segmentMs: HOUR_MS });
  });

  it('deletes results, decision questions and answers at most an hour after their retention, and events a day after theirs', async () => {
    expect({
      commandResults: await keptAtMost(topics.commandResults),
      decisionRequests: await keptAtMost(topics.decisionRequests),
      decisionReplies: await keptAtMost(topics.decisionReplies),
      events: await keptAtMost(topics.events),
    }).toEqual({
      commandResults: { retentionMs: 7 * DAY_MS, segmentMs: HOUR_MS },
      decisionRequests: { retentionMs: DAY_MS, segmentMs: HOUR_MS },
      decisionReplies: { retentionMs: DAY_MS, segmentMs: HOUR_MS },
      events: { retentionMs: 90 * DAY_MS, segmentMs: DAY_MS },
    });
  });

  // Found in review: compaction never touches the segment being written, which rolled after
  // Kafka's default 7 days, so an erased subject's earlier states and memberships stayed readable
  // beside its tombstone for up to a week.
  it("compacts an erased subject's earlier values away within a day of their sending, on the state and audience topics", async () => {
    const compactedWithin = async (topic: string) => {
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'max.compaction.lag.ms'] }] });
      const value = (name: string) => resources[0].configEntries.find((entry) => entry.configName === name)?.configValue;
      return { policy: value('cleanup.policy'), maxCompactionLagMs: Number(value('max.compaction.lag.ms')) };
    };
    const compactedDaily = { policy: 'compact', maxCompactionLagMs: DAY_MS };
    expect({
      state: await compactedWithin(topics.state),
      pickxTvAds: await compactedWithin(topics.pickxTvAds),
      adsAndData: await compactedWithin(topics.adsAndData),
    }).toEqual({ state: compactedDaily, pickxTvAds: compactedDaily, adsAndData: compactedDaily });
  });
});
