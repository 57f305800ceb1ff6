// Worker thread of the projector benchmarks: stamps feed receipts away from the load generator.
import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

export interface FeedReceiptsSettings {
  readonly brokers: string[];
  readonly stateTopic: string;
  readonly groupId: string;
  readonly databaseUrl: string;
  /** The read models' checkpoint NOTIFY channel. */
  readonly checkpointChannel: string;
  /** Which client reads the topic: Debian's kcat (librdkafka, a process of its own) or kafkajs on this thread. */
  readonly consumer: 'kcat' | 'kafkajs';
  /** The Pickx audience topic, read too when given (its key is the subject id). */
  readonly pickxAudienceTopic?: string;
}

/** What the worker tells the bench; `at` is wall-clock milliseconds (timeOrigin + now), comparable across threads. */
export type FeedReceipt =
  | {
      readonly kind: 'ready';
      /** kcat's process, whose CPU the bench counts as the receiving consumer's. */
      readonly consumerPid?: number;
      /** kcat's process reading the Pickx audience, when asked for. */
      readonly audienceConsumerPid?: number;
    }
  | {
      readonly kind: 'state';
      readonly subjectId: string;
      readonly position: string;
      /** `time:<instant>` for a change caused by time passing, an event id otherwise. */
      readonly causationId?: string;
      readonly at: number;
    }
  | { readonly kind: 'pickx-audience'; readonly subjectId: string; readonly member: boolean; readonly at: number }
  | { readonly kind: 'read-models-committed'; readonly position: string; readonly at: number };

/**
 * A real consumer of `consent.state.v1` runs on a machine of its own. Here receipts are stamped on
 * a thread of their own, so the load generator's busy event loop cannot delay the stamps and count
 * as feed lag.
 */
async function run(settings: FeedReceiptsSettings): Promise<void> {
  const port = parentPort!;
  const stamp = () => performance.timeOrigin + performance.now();
  const listener = new Client({ connectionString: settings.databaseUrl });
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.payload) port.postMessage({ kind: 'read-models-committed', position: message.payload, at: stamp() } satisfies FeedReceipt);
  });
  await listener.query(`LISTEN "${settings.checkpointChannel.replace(/"/g, '""')}"`);
  const reading = settings.consumer === 'kcat' ? await readWithKcat(settings, stamp) : await readWithKafkajs(settings, stamp);
  port.postMessage({ kind: 'ready', consumerPid: reading.pid, audienceConsumerPid: reading.audiencePid } satisfies FeedReceipt);

  port.once('message', () => {
    void Promise.all([reading.stop().catch(() => undefined), listener.end().catch(() => undefined)]).then(() => port.close());
  });
}

/**
 * kcat decompresses and decodes in C, in a process of its own: at 2,000 commands/s kafkajs's
 * gunzip and decoding on this thread took ~0.15 ms of CPU per command, on the same two cores as
 * the projectors the bench measures. Lines are stamped as they arrive (kcat flushes each one).
 */
interface Reading {
  readonly pid?: number;
  readonly audiencePid?: number;
  stop(): Promise<void>;
}

async function readWithKcat(settings: FeedReceiptsSettings, stamp: () => number): Promise<Reading> {
  const port = parentPort!;
  const state = await followWithKcat(settings.brokers, settings.stateTopic, '%k\t%h\n', stamp, (line, at) => {
    const tab = line.indexOf('\t');
    const headers = line.slice(tab + 1);
    const position = /(?:^|,)position=(\d+)/.exec(headers)?.[1];
    const causationId = /(?:^|,)causation-id=([^,]*)/.exec(headers)?.[1];
    if (tab > 0 && position) port.postMessage({ kind: 'state', subjectId: line.slice(0, tab), position, causationId, at } satisfies FeedReceipt);
  });
  const audience =
    settings.pickxAudienceTopic === undefined
      ? undefined
      : await followWithKcat(settings.brokers, settings.pickxAudienceTopic, '%k\t%s\n', stamp, (line, at) => {
          const tab = line.indexOf('\t');
          // A tombstone (erasure) has an empty value: not a membership.
          if (tab > 0 && tab < line.length - 1) {
            const { member } = JSON.parse(line.slice(tab + 1)) as { member: boolean };
            port.postMessage({ kind: 'pickx-audience', subjectId: line.slice(0, tab), member, at } satisfies FeedReceipt);
          }
        });
  return {
    pid: state.pid,
    audiencePid: audience?.pid,
    stop: async () => {
      await Promise.all([state.stop(), audience?.stop()]);
    },
  };
}

/** One kcat reading `topic` from the beginning, each line handed over with the instant its chunk arrived. */
async function followWithKcat(brokers: readonly string[], topic: string, format: string, stamp: () => number, onLine: (line: string, at: number) => void): Promise<Reading> {
  const kcat = spawn('kcat', ['-C', '-u', '-q', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-f', format], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => kcat.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    kcat.once('spawn', resolve);
    kcat.once('error', (error) => reject(new Error(`kcat could not be started (install Debian's kcat, or set BENCH_CONSUMER=kafkajs): ${error.message}`)));
  });
  let partial = '';
  kcat.stdout!.setEncoding('utf8');
  kcat.stdout!.on('data', (chunk: string) => {
    const at = stamp();
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line, at);
  });
  return {
    pid: kcat.pid,
    async stop() {
      kcat.kill('SIGTERM');
      await exited;
    },
  };
}

async function readWithKafkajs(settings: FeedReceiptsSettings, stamp: () => number): Promise<Reading> {
  const port = parentPort!;
  const kafka = new Kafka({ clientId: `${settings.groupId}-receipts`, brokers: settings.brokers, logLevel: logLevel.NOTHING });
  // A fetch returns as soon as a message arrives (one byte is enough); the wait only sets how often
  // an idle fetch is asked again. At 10 ms this thread and the broker's answers to it took 0.13
  // cores more of the two than at 500 ms, with the same lag at 10 commands/s.
  const consumer = kafka.consumer({ groupId: settings.groupId, maxWaitTimeInMs: 500, minBytes: 1 });
  await consumer.connect();
  await consumer.subscribe({ topic: settings.stateTopic, fromBeginning: true });
  if (settings.pickxAudienceTopic !== undefined) await consumer.subscribe({ topic: settings.pickxAudienceTopic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  // No offset commits: kafkajs's auto-commit sends one after every partition's batch and waits
  // for it (5-7 ms each here), which delayed the next fetch by tens of milliseconds at 500/s.
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, message }) => {
      if (topic === settings.pickxAudienceTopic) {
        if (message.key && message.value) {
          const { member } = JSON.parse(message.value.toString()) as { member: boolean };
          port.postMessage({ kind: 'pickx-audience', subjectId: message.key.toString(), member, at: stamp() } satisfies FeedReceipt);
        }
        return;
      }
      const position = message.headers?.position?.toString();
      const causationId = message.headers?.['causation-id']?.toString();
      if (message.key && position) port.postMessage({ kind: 'state', subjectId: message.key.toString(), position, causationId, at: stamp() } satisfies FeedReceipt);
    },
  });
  await joined;
  return { stop: () => consumer.disconnect() };
}

if (parentPort) {
  run(workerData as FeedReceiptsSettings).catch((error: unknown) => {
    console.error('feed receipts worker failed', error);
    process.exit(1);
  });
}
