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

const DAY_MS = 86_400_000;

/**
 * Compacted topics keep the latest value per key for good (a new consumer reads the current state
 * from the beginning); tombstones stay a week so that a consumer that was away still sees an
 * erasure. The event feed is a stream with time retention; requests and replies are short-lived.
 */
export function topicConfigs(topics: ConsentTopics, partitions: number, replicationFactor: number): ITopicConfig[] {
  const compacted = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'delete.retention.ms', value: String(7 * DAY_MS) },
    { name: 'min.compaction.lag.ms', value: String(60_000) },
  ];
  const retainedFor = (ms: number) => [
    { name: 'cleanup.policy', value: 'delete' },
    { name: 'retention.ms', value: String(ms) },
  ];
  const topic = (name: string, configEntries: { name: string; value: string }[]) => ({ topic: name, numPartitions: partitions, replicationFactor, configEntries });
  return [
    topic(topics.events, retainedFor(90 * DAY_MS)),
    topic(topics.state, compacted),
    topic(topics.pickxTvAds, compacted),
    topic(topics.adsAndData, compacted),
    topic(topics.decisionRequests, retainedFor(DAY_MS)),
    topic(topics.decisionReplies, retainedFor(DAY_MS)),
    topic(topics.commands, retainedFor(7 * DAY_MS)),
    topic(topics.commandResults, retainedFor(7 * DAY_MS)),
  ];
}
