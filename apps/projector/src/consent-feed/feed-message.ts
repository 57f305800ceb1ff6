/** One Kafka message the feed publishes: `value: null` is a tombstone on a compacted topic. */
export interface FeedMessage {
  readonly key: string;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}
