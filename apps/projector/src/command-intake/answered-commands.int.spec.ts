import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { INestMicroservice } from '@nestjs/common';
import { type Admin, ConfigResourceTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { commandJson } from '../../../../libs/ledger-commands/src/testing/command-json';
import { describeWithKafka, uniqueName } from '../../../../test/support/services';
import type { ProjectorConfig } from '../config';
import { createProjector } from '../projector';
import { ProjectorResources } from '../projector-resources';
import { consentTopics } from '../kafka/topics';
import { anotherCommandIntake } from '../testing/another-command-intake';
import { RecordingLogger } from '../testing/recording-logger';
import { testProjectorConfig } from '../testing/test-config';
import { eventually, type ReadMessage, TopicReader } from '../testing/topic-reader';
import { AnsweredCommands } from './answered-commands';
import { commandIntakeGroupId } from './command-topic-intake';

/** Contact details and an evidence reference, sent in clear on the topic as channels may; unique to the test. */
function prospectWithContactDetails() {
  const tag = randomBytes(4).toString('hex');
  const subjectId = uniqueName('prospect');
  const contact = { name: `Jana Peeters-${tag}`, email: `jana.${tag}@example.be`, phone: `+3247${String(Date.now()).slice(-7)}` };
  const command = commandJson.giveConsent(subjectId, { purpose: 'prospect-contact-collection-events', contact, capture: { touchpoint: 'event', evidenceRef: `signed-form-${tag}` } });
  return { tag, command };
}

/** Every message the topic holds, read from its beginning by kcat, a client that is not ours, as anyone allowed to read it would. */
async function readByKcat(brokers: readonly string[], topic: string): Promise<string> {
  const { stdout } = await promisify(execFile)('kcat', ['-b', brokers.join(','), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p:%o\t%k\t%s\t%h\n'], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/**
 * A projector of its own, and what a channel system and a reader of the topics need: commands are
 * sent keyed by subject with their idempotency key in its header, results read as they come.
 */
class CommandTopicSide {
  private constructor(
    readonly config: ProjectorConfig,
    private readonly producer: Producer,
    private readonly admin: Admin,
    readonly reader: TopicReader,
    private readonly topics: { commands: string; commandResults: string },
  ) {}

  static async open(config: ProjectorConfig, topics: { commands: string; commandResults: string }): Promise<CommandTopicSide> {
    const kafka = new Kafka({ clientId: uniqueName('tv-menu-backend'), brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const reader = await TopicReader.open(config.kafkaBrokers, [topics.commandResults]);
    return new CommandTopicSide(config, producer, admin, reader, topics);
  }

  send(messages: { partition: number; key?: string; value: unknown; headers?: Record<string, string> }[]) {
    return this.producer.send({
      topic: this.topics.commands,
      messages: messages.map(({ key, value, headers, partition }) => ({
        partition,
        key: 'subject-key',
        value: typeof value === 'string' ? value : JSON.stringify(value),
        headers: { client: 'tv-menu', ...headers, ...(key !== undefined && { 'idempotency-key': key }) },
      })),
    });
  }

  resultFor(key: string, timeoutMs?: number): Promise<ReadMessage> {
    return this.reader.until(() => this.reader.messages(this.topics.commandResults, key)[0], `the result for ${key}`, timeoutMs);
  }

  resultsFor(key: string): ReadMessage[] {
    return this.reader.messages(this.topics.commandResults, key);
  }

  /** Waits until no consumer can read the answered message any more: the partition's first offset is past it. */
  async goneFromTheTopic(result: ReadMessage, timeoutMs = 20_000): Promise<void> {
    const { partition, offset } = result.value.source as { partition: number; offset: string };
    await eventually(
      async () => {
        const start = (await this.admin.fetchTopicOffsets(this.topics.commands)).find((offsets) => offsets.partition === partition)?.low;
        return start !== undefined && BigInt(start) > BigInt(offset);
      },
      `command ${partition}:${offset} deleted from the topic`,
      timeoutMs,
    );
  }

  onTheTopic(): Promise<string> {
    return readByKcat(this.config.kafkaBrokers, this.topics.commands);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.admin.disconnect();
    await this.producer.disconnect();
  }
}

// Found in review: a command's contact details and evidence references, sent in clear, stayed on
// the topic for 7 days after the intake had sealed and recorded them, readable by anyone allowed
// to read the topic, and out of reach of an erasure.
describeWithKafka('consent.commands.v1: answered commands are deleted from the topic', () => {
  const config = testProjectorConfig();
  let app: INestMicroservice;
  let resources: ProjectorResources;
  let side: CommandTopicSide;

  beforeAll(async () => {
    app = await createProjector(config, { logger: false });
    await app.listen();
    resources = app.get(ProjectorResources);
    side = await CommandTopicSide.open(config, resources.topics);
  });

  afterAll(async () => {
    await side?.close();
    await app?.close();
  });

  it('deletes commands once answered, on every partition: read from the beginning, the topic holds none of them, nor the contact details they carried', async () => {
    const prospect = prospectWithContactDetails();
    const keys = { prospect: uniqueName('key'), customer: uniqueName('key') };
    await side.send([
      { partition: 0, key: keys.prospect, value: prospect.command },
      { partition: 1, key: keys.customer, value: commandJson.startRelationship(uniqueName('subject')) },
    ]);
    const results = [await side.resultFor(keys.prospect), await side.resultFor(keys.customer)];
    expect(results.map((result) => result.value.status)).toEqual([201, 201]);

    for (const result of results) await side.goneFromTheTopic(result);
    const onTheTopic = await side.onTheTopic();
    expect(onTheTopic).not.toContain(prospect.tag);
    expect(onTheTopic).not.toContain(keys.prospect);
    expect(onTheTopic).not.toContain(keys.customer);
  });

  it('deletes a poison message once it is answered, without a key and not JSON as it was', async () => {
    const { tag } = prospectWithContactDetails();
    await side.send([{ partition: 1, value: `jana.${tag}@example.be asked not to be called again` }]);
    const result = await side.reader.until(
      () => side.reader.messages(resources.topics.commandResults).find((message) => message.key?.startsWith('unkeyed:1:') && message.value.body?.details?.[0]?.field === 'idempotency-key'),
      'the result for the message without a key',
    );

    await side.goneFromTheTopic(result);
    expect(await side.onTheTopic()).not.toContain(tag);
  });

  it('keeps a command waiting for a copy decided in another process, and the one behind it on its partition, until both are answered', async () => {
    const subjectId = uniqueName('subject');
    const waiting = { key: uniqueName('key'), command: commandJson.startRelationship(subjectId) };
    const keys = { behind: uniqueName('key'), otherPartition: uniqueName('key') };
    // Another process took the key for the same request and is deciding it: the intake waits for its answer.
    const claim = { client: 'kafka/tv-menu', idempotencyKey: waiting.key, requestFingerprint: resources.intake.fingerprintOf(waiting.command), recordedAt: new Date().toISOString() };
    expect(await resources.idempotencyRecords.claim(claim)).toBeUndefined();
    await side.send([
      { partition: 0, key: waiting.key, value: waiting.command },
      { partition: 0, key: keys.behind, value: commandJson.startRelationship(uniqueName('subject')) },
      { partition: 1, key: keys.otherPartition, value: commandJson.startRelationship(uniqueName('subject')) },
    ]);

    // What was answered meanwhile is deleted; the partition waiting keeps both its commands.
    await side.goneFromTheTopic(await side.resultFor(keys.otherPartition));
    const whileWaiting = await side.onTheTopic();
    expect(side.resultsFor(waiting.key)).toEqual([]);
    expect(whileWaiting).toContain(waiting.key);
    expect(whileWaiting).toContain(keys.behind);
    expect(whileWaiting).not.toContain(keys.otherPartition);

    const answer = { subjectId, events: [{ id: uniqueName('event'), type: 'RelationshipStarted', revision: 0 }], position: '1' };
    await resources.idempotencyRecords.save({ ...claim, status: 201, body: JSON.stringify(answer), recordedAt: new Date().toISOString() });
    const answered = await side.resultFor(waiting.key);
    expect(answered.value).toMatchObject({ status: 201, replayed: true, body: answer });
    await side.goneFromTheTopic(await side.resultFor(keys.behind));
    const afterwards = await side.onTheTopic();
    expect(afterwards).not.toContain(waiting.key);
    expect(afterwards).not.toContain(keys.behind);
  });

  it('deletes what each of two intake instances in one consumer group answered on the partitions it was given', async () => {
    const second = anotherCommandIntake(resources, config.kafkaTopicPrefix, { deleteAnswered: true, log: { warn: () => undefined, error: () => undefined } });
    const admin = resources.kafka.admin();
    await admin.connect();
    try {
      await second.start();
      const groupId = commandIntakeGroupId(config.kafkaTopicPrefix);
      await eventually(
        async () => {
          const [group] = (await admin.describeGroups([groupId])).groups;
          return group.state === 'Stable' && group.members.length === 2;
        },
        'two members in the group',
        30_000,
      );
      const keys = [uniqueName('key'), uniqueName('key'), uniqueName('key'), uniqueName('key')];
      await side.send(keys.map((key, index) => ({ partition: index % 2, key, value: commandJson.startRelationship(uniqueName('subject')) })));

      for (const key of keys) await side.goneFromTheTopic(await side.resultFor(key, 30_000));
      const onTheTopic = await side.onTheTopic();
      for (const key of keys) expect(onTheTopic).not.toContain(key);
    } finally {
      await second.stop();
      await admin.disconnect();
    }
  }, 60_000);
});

describeWithKafka('consent.commands.v1 with KAFKA_DELETE_ANSWERED_COMMANDS=false, then true', () => {
  const config = testProjectorConfig({ deleteAnsweredCommands: false });
  let app: INestMicroservice | undefined;
  let side: CommandTopicSide;

  const start = async (overrides: Partial<ProjectorConfig>) => {
    app = await createProjector({ ...config, ...overrides, instanceId: uniqueName('projector') }, { logger: false });
    await app.listen();
    return app.get(ProjectorResources);
  };

  afterAll(async () => {
    await side?.close();
    await app?.close();
  });

  it('keeps answered commands for other readers when told to, and a command sent while no intake runs until it is answered; then deletes both, answering each once', async () => {
    const resources = await start({});
    side = await CommandTopicSide.open(config, resources.topics);
    // Alone on its partition: only what the group committed there before this start can say it was answered.
    const answeredEarlier = uniqueName('key');
    await side.send([{ partition: 1, key: answeredEarlier, value: commandJson.startRelationship(uniqueName('subject')) }]);
    expect((await side.resultFor(answeredEarlier)).value).toMatchObject({ status: 201 });
    await app!.close();
    app = undefined;
    // Stopping commits and, were deleting on, deletes what was answered last: nothing was deleted.
    expect(await side.onTheTopic()).toContain(answeredEarlier);

    const sentWhileStopped = uniqueName('key');
    await side.send([{ partition: 0, key: sentWhileStopped, value: commandJson.startRelationship(uniqueName('subject')) }]);
    expect(await side.onTheTopic()).toContain(sentWhileStopped);

    await start({ deleteAnsweredCommands: true });
    const answeredNow = await side.resultFor(sentWhileStopped, 30_000);
    expect(answeredNow.value).toMatchObject({ status: 201, replayed: false });
    await side.goneFromTheTopic(answeredNow);
    await side.goneFromTheTopic(await side.resultFor(answeredEarlier));
    const onTheTopic = await side.onTheTopic();
    expect(onTheTopic).not.toContain(answeredEarlier);
    expect(onTheTopic).not.toContain(sentWhileStopped);
    expect(side.resultsFor(answeredEarlier)).toHaveLength(1);
  }, 90_000);
});

describeWithKafka('consent.commands.v1 when answered commands cannot be deleted', () => {
  const config = testProjectorConfig();
  const topics = consentTopics(config.kafkaTopicPrefix);
  const logger = new RecordingLogger();
  let admin: Admin;
  let app: INestMicroservice;
  let side: CommandTopicSide;

  beforeAll(async () => {
    // Made before the projector starts, which leaves existing topics as they are: a compacted
    // topic refuses DeleteRecords (POLICY_VIOLATION), as a broker does without the ACL for it.
    admin = new Kafka({ clientId: uniqueName('operator'), brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: topics.commands, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: true,
    });
    app = await createProjector(config, { logger });
    await app.listen();
    side = await CommandTopicSide.open(config, topics);
  });

  afterAll(async () => {
    await side?.close();
    await app?.close();
    await admin?.disconnect();
  });

  it('goes on answering commands, warns, and deletes them once it can', async () => {
    const first = uniqueName('key');
    await side.send([{ partition: 0, key: first, value: commandJson.startRelationship(uniqueName('subject')) }]);
    expect((await side.resultFor(first)).value).toMatchObject({ status: 201 });
    const warning = await eventually(() => logger.lines.find((line) => line.level === 'warn' && line.message.includes('could not delete answered commands')), 'the warning', 20_000);
    expect(warning.message).toContain(topics.commands);
    expect(warning.message).toContain('partition 0: POLICY_VIOLATION');

    const afterTheFailure = uniqueName('key');
    await side.send([{ partition: 0, key: afterTheFailure, value: commandJson.startRelationship(uniqueName('subject')) }]);
    const answered = await side.resultFor(afterTheFailure);
    expect(answered.value).toMatchObject({ status: 201 });
    expect(await side.onTheTopic()).toContain(first);

    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.commands, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }],
    });
    await side.goneFromTheTopic(answered, 30_000);
    const onTheTopic = await side.onTheTopic();
    expect(onTheTopic).not.toContain(first);
    expect(onTheTopic).not.toContain(afterTheFailure);
  }, 60_000);
});

// A running intake remembered, per partition, the offsets its group committed: with the topic
// deleted and created again (or the group's offsets reset by an operator to read again), it deleted
// below the old offsets, commands not yet read among them.
describeWithKafka('consent.commands.v1: answered commands, when the group committed less than this instance remembers', () => {
  const brokers = testProjectorConfig().kafkaBrokers;
  const topic = uniqueName('cl.commands-recreated');
  const groupId = uniqueName('cl.intake');
  let admin: Admin;

  beforeAll(async () => {
    admin = new Kafka({ clientId: uniqueName('test-admin'), brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('deletes only below what the group committed', async () => {
    const producer = new Kafka({ clientId: uniqueName('tv-menu-backend'), brokers: [...brokers], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, index) => ({ partition: 0, key: 'subject-key', value: `command ${index}` })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5' }] });

    const warnings: string[] = [];
    const answered = new AnsweredCommands({ admin, commandsTopic: topic, groupId, log: { warn: (message) => warnings.push(message) } });
    // What the instance remembers from before the topic was made anew.
    answered.committed(0, '15');
    await answered.deleteAnswered();

    const [partition] = await admin.fetchTopicOffsets(topic);
    expect({ low: partition.low, warnings }).toEqual({ low: '5', warnings: [] });
  });

  // Found in review: the instance remembered how far it had deleted on the topic before it was
  // made anew, and deleted nothing on the new one until the group's offsets passed that point:
  // commands answered there, with the contact details a channel sent in clear, stayed readable
  // meanwhile, up to the topic's 7 days.
  it('deletes what is answered on the topic made anew, below how far it had deleted on the old one', async () => {
    const warnings: string[] = [];
    const answered = new AnsweredCommands({ admin, commandsTopic: topic, groupId, log: { warn: (message) => warnings.push(message) } });
    await sendCommands(20);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '15' }] });
    answered.committed(0, '15');
    await answered.deleteAnswered();
    expect((await admin.fetchTopicOffsets(topic))[0].low).toBe('15');

    await admin.deleteTopics({ topics: [topic] });
    await eventually(async () => !(await admin.listTopics()).includes(topic), 'the topic to be deleted');
    await eventually(async () => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }).catch(() => undefined);
      return (await admin.listTopics()).includes(topic);
    }, 'the topic to be made anew');
    await sendCommands(20);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '10' }] });
    answered.committed(0, '10');
    await answered.deleteAnswered();

    expect({ low: (await admin.fetchTopicOffsets(topic))[0].low, warnings }).toEqual({ low: '10', warnings: [] });
  });

  async function sendCommands(count: number): Promise<void> {
    const producer = new Kafka({ clientId: uniqueName('tv-menu-backend'), brokers: [...brokers], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: count }, (_, index) => ({ partition: 0, key: 'subject-key', value: `command ${index}` })) });
    await producer.disconnect();
  }
});
