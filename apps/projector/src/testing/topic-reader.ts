import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { uniqueName } from '../../../../test/support/services';

export interface ReadMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** Parsed JSON, or null for a tombstone. */
  readonly value: any;
  readonly headers: Record<string, string>;
  /** `Date.now()` when this reader got it. */
  readonly receivedAt: number;
}

/** Reads topics from the beginning as an independent consumer would, and waits on what it has read. */
export class TopicReader {
  private readonly received: ReadMessage[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async open(brokers: readonly string[], topics: readonly string[]): Promise<TopicReader> {
    const kafka = new Kafka({ clientId: uniqueName('topic-reader'), brokers: [...brokers], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('topic-reader'), maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 500 });
    const reader = new TopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    let joined!: () => void;
    const hasJoined = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = value.toString();
        reader.received.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value === null ? null : JSON.parse(message.value.toString()),
          headers,
          receivedAt: Date.now(),
        });
      },
    });
    await hasJoined;
    return reader;
  }

  messages(topic: string, key?: string): ReadMessage[] {
    return this.received.filter((message) => message.topic === topic && (key === undefined || message.key === key));
  }

  /** Waits until `find` returns something (or fails after `timeoutMs`), and returns it. */
  async until<T>(find: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    return eventually(find, what, timeoutMs);
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Polls a probe until it gives a value or the deadline passes; never a fixed sleep. */
export async function eventually<T>(find: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
