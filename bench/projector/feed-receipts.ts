// Worker thread of state-lag.bench.ts: stamps feed receipts away from the load generator.
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
}

/** What the worker tells the bench; `at` is wall-clock milliseconds (timeOrigin + now), comparable across threads. */
export type FeedReceipt =
  | { readonly kind: 'ready' }
  | { readonly kind: 'state'; readonly subjectId: string; readonly position: string; readonly at: number }
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

  const kafka = new Kafka({ clientId: `${settings.groupId}-receipts`, brokers: settings.brokers, logLevel: logLevel.NOTHING });
  // A fetch returns as soon as a message arrives (one byte is enough); the wait only sets how often
  // an idle fetch is asked again. At 10 ms this thread and the broker's answers to it took 0.13
  // cores more of the two than at 500 ms, with the same lag at 10 commands/s.
  const consumer = kafka.consumer({ groupId: settings.groupId, maxWaitTimeInMs: 500, minBytes: 1 });
  await consumer.connect();
  await consumer.subscribe({ topic: settings.stateTopic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  // No offset commits: kafkajs's auto-commit sends one after every partition's batch and waits
  // for it (5-7 ms each here), which delayed the next fetch by tens of milliseconds at 500/s.
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const position = message.headers?.position?.toString();
      if (message.key && position) port.postMessage({ kind: 'state', subjectId: message.key.toString(), position, at: stamp() } satisfies FeedReceipt);
    },
  });
  await joined;
  port.postMessage({ kind: 'ready' } satisfies FeedReceipt);

  port.once('message', () => {
    void Promise.all([consumer.disconnect().catch(() => undefined), listener.end().catch(() => undefined)]).then(() => port.close());
  });
}

if (parentPort) {
  run(workerData as FeedReceiptsSettings).catch((error: unknown) => {
    console.error('feed receipts worker failed', error);
    process.exit(1);
  });
}
