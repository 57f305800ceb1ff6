import type { ITopicConfig } from 'kafkajs';

/** The topics the projector owns, by role; names are versioned (a breaking change is a new topic). */
export interface ConsentTopics {
  readonly events: string;
  readonly state: string;
  readonly pickxTvAds: string;
  readonly adsAndData: string;
  readonly decisionRequests: string;
  readonly decisionReplies: string;
  readonly commands: string;
  readonly commandResults: string;
}

export function consentTopics(prefix = ''): ConsentTopics {
  return {
    events: `${prefix}consent.events.v1`,
    state: `${prefix}consent.state.v1`,
    pickxTvAds: `${prefix}consent.audience.pickx-tv-ads.v1`,
    adsAndData: `${prefix}consent.audience.ads-and-data.v1`,
    decisionRequests: `${prefix}consent.decision`,
    // NestJS's ClientKafka listens for replies on `<request topic>.reply`.
    decisionReplies: `${prefix}consent.decision.reply`,
    commands: `${prefix}consent.commands.v1`,
    commandResults: `${prefix}consent.command-results.v1`,
  };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Compacted topics keep the latest value per key for good (a new consumer reads the current state
 * from the beginning), earlier ones a day at most; tombstones stay a week so that a consumer that
 * was away still sees an erasure. The event feed is a stream with time retention; requests and replies are short-lived.
 *
 * A broker deletes a whole segment once its newest message is older than the retention, and the
 * segment being written rolls only after `segment.ms` (7 days by default). So a command, with the
 * contact details and evidence references a channel sent in clear, stayed up to 14 days on the
 * command topic, not 7 (found in review). Segments roll hourly, on the event feed daily: each
 * message goes at most that much after its retention, plus the broker's retention check (5 min).
 */
export function topicConfigs(topics: ConsentTopics, partitions: number, replicationFactor: number): ITopicConfig[] {
  const compacted = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'delete.retention.ms', value: String(7 * DAY_MS) },
    { name: 'min.compaction.lag.ms', value: String(60_000) },
    // Compaction never touches the segment being written, and a compacted topic rolls it at the
    // latest this long after its first message: an erased or removed subject's earlier values
    // stay readable beside its tombstone for a day, not Kafka's default 7 (found in review).
    { name: 'max.compaction.lag.ms', value: String(DAY_MS) },
  ];
  const retainedFor = (ms: number, { rolledEvery = HOUR_MS } = {}) => [
    { name: 'cleanup.policy', value: 'delete' },
    { name: 'retention.ms', value: String(ms) },
    { name: 'segment.ms', value: String(rolledEvery) },
  ];
  const topic = (name: string, configEntries: { name: string; value: string }[]) => ({ topic: name, numPartitions: partitions, replicationFactor, configEntries });
  return [
    topic(topics.events, retainedFor(90 * DAY_MS, { rolledEvery: DAY_MS })),
    topic(topics.state, compacted),
    topic(topics.pickxTvAds, compacted),
    topic(topics.adsAndData, compacted),
    topic(topics.decisionRequests, retainedFor(DAY_MS)),
    topic(topics.decisionReplies, retainedFor(DAY_MS)),
    topic(topics.commands, retainedFor(7 * DAY_MS)),
    topic(topics.commandResults, retainedFor(7 * DAY_MS)),
  ];
}
