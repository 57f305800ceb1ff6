import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { uniqueName } from '../../../../test/support/services';
import type { ConsentTopics } from '../kafka/topics';
import { eventually, type ReadMessage, TopicReader } from './topic-reader';

/**
 * Asks `consent.decision` as clients other than NestJS's do (kcat, another language): headers of
 * its own, every question on partition 0, so that each is taken after the one before; answers are
 * read from the deployment's reply topic by correlation id.
 */
export class DecisionAsker {
  private constructor(
    private readonly topics: ConsentTopics,
    private readonly producer: Producer,
    private readonly admin: Admin,
    private readonly reader: TopicReader,
  ) {}

  static async open(brokers: readonly string[], topics: ConsentTopics): Promise<DecisionAsker> {
    const kafka = new Kafka({ clientId: uniqueName('decision-asker'), brokers: [...brokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const reader = await TopicReader.open(brokers, [topics.decisionReplies]);
    return new DecisionAsker(topics, producer, admin, reader);
  }

  /** Sends a question (by default about a subject the ledger does not know, or `value` as written); returns its correlation id. */
  async ask(replyTopic: string, headers: Record<string, string> = {}, value?: string): Promise<string> {
    const correlationId = uniqueName('ask');
    const question = { subjectId: uniqueName('subject'), purpose: 'targeted-tv-advertising-pickx', channel: 'tv-screen' };
    await this.producer.send({
      topic: this.topics.decisionRequests,
      messages: [{ partition: 0, value: value ?? JSON.stringify(question), headers: { kafka_correlationId: correlationId, kafka_replyTopic: replyTopic, ...headers } }],
    });
    return correlationId;
  }

  answersTo(correlationId: string): ReadMessage[] {
    return this.reader.messages(this.topics.decisionReplies).filter((reply) => reply.headers.kafka_correlationId === correlationId);
  }

  answerTo(correlationId: string, timeoutMs?: number): Promise<ReadMessage> {
    return eventually(() => this.answersTo(correlationId)[0], `the answer to ${correlationId}`, timeoutMs);
  }

  /** A question on the reply topic of the deployment gets its answer. */
  async answeredOnTheReplyTopic(): Promise<ReadMessage> {
    return this.answerTo(await this.ask(this.topics.decisionReplies));
  }

  /**
   * Asks until an answer comes. A new consumer group starts at the latest offset once it has
   * joined, so a question sent to a projector that has just started may never be seen.
   */
  async untilAnswering(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const correlationId = await this.ask(this.topics.decisionReplies);
      try {
        await this.answerTo(correlationId, 1_000);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  /** How many messages a topic has ever had (the sum of its partitions' end offsets). */
  async messagesOn(topic: string): Promise<number> {
    return (await this.admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.admin.disconnect();
    await this.producer.disconnect();
  }
}
