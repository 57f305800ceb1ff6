import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Admin, Consumer, Kafka, KafkaMessage, LogEntry, logLevel, Partitioners, Producer } from 'kafkajs';
import { describeWithKafka, kafkaTestBrokers, uniqueName } from '../support/services';

/**
 * Proves the broker from scripts/kafka/start is usable by the clients the project relies on:
 * kafkajs 2.2.4 (whose newest protocol versions are older than what Kafka 4 removed, KIP-896,
 * so this is the guard against a broker upgrade that drops them) and kcat as an independent reader.
 */
describeWithKafka('Kafka broker (scripts/kafka/start) with kafkajs and kcat', () => {
  const run = promisify(execFile);
  const logs: LogEntry[] = [];
  const kafka = new Kafka({
    clientId: 'broker-int-spec',
    brokers: kafkaTestBrokers(),
    // Kept rather than printed: the last test asserts that no protocol-version error showed up.
    logCreator: () => (entry) => logs.push(entry),
    logLevel: logLevel.WARN,
  });
  const compacted = uniqueName('cl_test_compacted');
  const events = uniqueName('cl_test_events');
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  function consumer(groupId: string): Consumer {
    // Fast heartbeats make the rebalance below take well under a second instead of ~3s.
    const created = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 200 });
    consumers.push(created);
    return created;
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Explicit, so kafkajs does not warn about its v2 default-partitioner change.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [compacted, events] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('creates a compacted and a normal topic through the admin client', async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: compacted, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: events, numPartitions: 2 },
      ],
    });
    expect(created).toBe(true);

    const { topics } = await admin.fetchTopicMetadata({ topics: [compacted, events] });
    expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
      [[compacted, 1], [events, 2]].sort(),
    );
    const config = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: compacted, configNames: ['cleanup.policy'] }],
    });
    expect(config.resources[0].configEntries[0]).toMatchObject({ configName: 'cleanup.policy', configValue: 'compact' });
  });

  const sent = Array.from({ length: 20 }, (_, i) => ({ key: `subject-${i % 5}`, value: `choice-${i}` }));

  it('an idempotent producer writes and a consumer group reads from the beginning, in order, with keys', async () => {
    await producer.send({ topic: compacted, messages: sent });

    const received: KafkaMessage[] = [];
    const groupId = uniqueName('cl_test_group');
    const reader = consumer(groupId);
    await reader.connect();
    await reader.subscribe({ topic: compacted, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void received.push(message) });
    await until(() => received.length >= sent.length, 20000, `${sent.length} messages on ${compacted}`);

    expect(received.map((m) => ({ key: m.key?.toString(), value: m.value?.toString() }))).toEqual(sent);
    expect(received.map((m) => Number(m.offset))).toEqual(sent.map((_, i) => i));

    // Auto-commit runs after each batch; the group's committed offset must reach the end (OffsetCommit/OffsetFetch).
    await until(
      async () => (await admin.fetchOffsets({ groupId, topics: [compacted] }))[0].partitions[0].offset === String(sent.length),
      10000,
      `group ${groupId} to commit offset ${sent.length}`,
    );
  });

  it('a second member of a group gets partitions on rebalance', async () => {
    const groupId = uniqueName('cl_test_group');
    const assignments = new Map<string, number[]>();
    const received = new Map<string, number[]>();
    const join = async (name: string) => {
      const member = consumer(groupId);
      member.on(member.events.GROUP_JOIN, ({ payload }) => assignments.set(name, payload.memberAssignment[events] ?? []));
      await member.connect();
      await member.subscribe({ topic: events, fromBeginning: true });
      await member.run({
        eachMessage: async ({ partition }) => void received.set(name, [...(received.get(name) ?? []), partition]),
      });
    };

    await join('first');
    await until(() => assignments.get('first')?.length === 2, 15000, 'the first member to own both partitions');

    await join('second');
    await until(
      () => assignments.get('first')?.length === 1 && assignments.get('second')?.length === 1,
      15000,
      'each member to own one partition after the rebalance',
    );
    expect([...assignments.get('first')!, ...assignments.get('second')!].sort()).toEqual([0, 1]);

    // Each member reads exactly the partition it was given.
    await producer.send({ topic: events, messages: [{ partition: 0, value: 'p0' }, { partition: 1, value: 'p1' }] });
    await until(() => received.has('first') && received.has('second'), 15000, 'both members to receive a message');
    expect(received.get('first')).toEqual(assignments.get('first'));
    expect(received.get('second')).toEqual(assignments.get('second'));
  });

  it('kcat, an independent client, reads the same keys and values', async () => {
    const kcat = await run('kcat', ['-V']).catch(() => undefined);
    if (!kcat) throw new Error('kcat is not installed: apt-get install -y kcat');
    const { stdout } = await run(
      'kcat',
      ['-b', kafkaTestBrokers().join(','), '-C', '-t', compacted, '-e', '-o', 'beginning', '-q', '-f', '%k %s\\n'],
      { timeout: 20000 },
    );
    expect(stdout.trim().split('\n')).toEqual(sent.map((m) => `${m.key} ${m.value}`));
  });

  // A request version the broker dropped mostly surfaces as a closed connection (failing the tests
  // above); this catches the cases where kafkajs does report the error code.
  it('kafkajs logged no protocol-version errors', () => {
    const protocolErrors = logs.filter((entry) =>
      /UNSUPPORTED_VERSION|does not support|not support the requested API/i.test(JSON.stringify(entry.log)),
    );
    expect(protocolErrors).toEqual([]);
  });
});

/** Polls a condition until it holds or fails the test after `timeoutMs`; never a fixed sleep. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
