// Run: npm run build && node dist/bench/projector/state-lag.bench.js
//   PostgreSQL on TEST_DATABASE_URL (default database `test`), Kafka on KAFKA_BROKERS (default 127.0.0.1:9092),
//   KAFKA_TOPIC_PREFIX before the run's own topic names on a shared broker (default none).
//   BENCH_RATES (default "500,2000") commands per second, BENCH_SECONDS per rate (default 20),
//   after BENCH_WARMUP_SECONDS (default 10, unmeasured) at the first rate,
//   BENCH_SUBJECTS customers the commands are spread over (default 4000), KAFKA_COMPRESSION for the projector (default gzip),
//   BENCH_PROJECTORS projector processes (default 2, as in production: one keeps the read models and publishes, the other stands by),
//   BENCH_BACKLOG commands appended at once after the warm-up, to time the projector through a backlog (default 20000; 0 skips it).
//   BENCH_CONSUMER the client that receives the state messages: kcat (default, Debian's package) or kafkajs.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { LedgerCommand, SubjectId } from '@consent-ledger/domain';
import { ascending, percentile } from '../support/percentile';
import { analyzeSchema, benchDatabaseUrl as databaseUrl } from '../support/postgres';
import { type CpuUse, describeCpuPer, ProcessCpu } from '../support/process-cpu';
import type { FeedReceipt } from './feed-receipts';
import { appCapture, feedReceiptsWorker, paced, record, rolesTaken, startProjectorRig, stopProjectorRig } from './projector-processes';

/**
 * Lag from an acknowledged command to its subject's new state on `consent.state.v1`, the latency a
 * consumer of the feed sees. The write side runs here: commands decided and appended through
 * LedgerStreams on the PostgreSQL store, paced at a fixed rate, for a pool of existing customers
 * (what a consent service mostly sees: choices of people it already knows), alternating giving and
 * withdrawing a consent so every command records an event. The projectors are the compiled app in
 * processes of their own (BENCH_PROJECTORS, default 2). A consumer (kcat, or kafkajs) read by a
 * worker thread of its own (`feed-receipts.ts`) stamps each state message on receipt; a command's lag is from its
 * append acknowledgement to the first state message of its subject at or past its position.
 * Each rate also prints the CPU spent per command by the projectors, PostgreSQL, Kafka and this
 * process (the write side and the receiving consumer, which in production run elsewhere).
 */
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const rates = (process.env.BENCH_RATES ?? '500,2000').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const warmUpSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);
const poolSize = Number(process.env.BENCH_SUBJECTS ?? 4000);
const projectorCount = Number(process.env.BENCH_PROJECTORS ?? 2);
const backlog = Number(process.env.BENCH_BACKLOG ?? 20_000);
const root = join(__dirname, '../../..');
const PURPOSE = 'targeted-tv-advertising-pickx';

interface Run {
  readonly rate: number;
  readonly sent: number;
  readonly achievedRate: number;
  readonly lagsMs: number[];
  readonly appendMs: number[];
  readonly readModelMs: number[];
  readonly missing: number;
  readonly cpu: CpuUse | undefined;
}

/**
 * Lag from an acknowledged append to the read models' commit that includes it, from their
 * checkpoint NOTIFY: the first half of the way to the topic, printed so the rest can be told apart.
 */
class ReadModelLag {
  private pending: { position: bigint; at: number; run: number[] }[] = [];
  private commits: { position: bigint; at: number }[] = [];

  ack(position: bigint, at: number, run: number[]): void {
    const commit = this.commits.find((candidate) => candidate.position >= position);
    if (commit) run.push(Math.max(0, commit.at - at));
    else this.pending.push({ position, at, run });
  }

  committed(position: bigint, at: number): void {
    for (const command of this.pending) if (command.position <= position) command.run.push(at - command.at);
    this.pending = this.pending.filter((command) => command.position > position);
    this.commits = [...this.commits.slice(-50), { position, at }];
  }
}

/** Matches acknowledged commands with the state messages that reflect them, whichever comes first. */
class LagTracker {
  private readonly acknowledged = new Map<string, { position: bigint; at: number; run: number[] }[]>();
  private readonly received = new Map<string, { position: bigint; at: number }[]>();
  private pendingCount = 0;

  get pending(): number {
    return this.pendingCount;
  }

  ack(subjectId: string, position: bigint, at: number, run: number[]): void {
    const seen = this.received.get(subjectId)?.find((receipt) => receipt.position >= position);
    if (seen) run.push(Math.max(0, seen.at - at));
    else {
      this.acknowledged.set(subjectId, [...(this.acknowledged.get(subjectId) ?? []), { position, at, run }]);
      this.pendingCount += 1;
    }
  }

  receive(subjectId: string, position: bigint, at: number): void {
    const waiting = this.acknowledged.get(subjectId) ?? [];
    const reflected = waiting.filter((command) => command.position <= position);
    for (const command of reflected) command.run.push(at - command.at);
    this.pendingCount -= reflected.length;
    this.acknowledged.set(subjectId, waiting.filter((command) => command.position > position));
    // Kept briefly for acknowledgements that arrive after their message (the feed can beat the ack callback).
    this.received.set(subjectId, [...(this.received.get(subjectId) ?? []).slice(-3), { position, at }]);
  }
}

async function main(): Promise<void> {
  const rig = await startProjectorRig({ root, brokers, databaseUrl, name: 'bench_projector', projectorCount });
  const { schema, url, projectors } = rig;
  let cpu = new ProcessCpu({ projectors: projectors.map((projector) => projector.pid) });
  const lags = new LagTracker();
  const readModelLag = new ReadModelLag();
  let receipts: Worker | undefined;
  const subjects = Array.from({ length: poolSize }, (_, i) => `customer-${i}`);
  let sequence = 0;
  try {
    await rolesTaken(rig, databaseUrl);
    // Started once the projectors have created the topics.
    const worker = feedReceiptsWorker(rig, brokers);
    receipts = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('the feed receipts worker stopped')));
      worker.on('message', (receipt: FeedReceipt) => {
        if (receipt.kind === 'ready') {
          cpu = new ProcessCpu({ projectors: projectors.map((projector) => projector.pid), 'receiving consumer': [receipt.consumerPid] });
          return resolve();
        }
        // Back to this thread's clock: the worker stamps wall-clock milliseconds.
        const at = receipt.at - performance.timeOrigin;
        if (receipt.kind === 'state') lags.receive(receipt.subjectId, BigInt(receipt.position), at);
        else if (receipt.kind === 'read-models-committed') readModelLag.committed(BigInt(receipt.position), at);
      });
    });
    await ready;

    const run = (command: LedgerCommand, key: string) => record(rig, command, key);

    const setupStarted = performance.now();
    const throwaway: number[] = [];
    await paced(1000, Math.ceil(poolSize / 1000), async (i) => {
      if (i >= poolSize) return;
      const subjectId = subjects[i] as SubjectId;
      const key = `start-${i}`;
      const result = await run({ type: 'StartRelationship', subjectId, brand: 'proximus', capture: appCapture(key), data: { relationship: 'customer' } }, key);
      lags.ack(subjectId, BigInt(result.position!), performance.now(), throwaway);
    });
    const setupDeadline = performance.now() + 120_000;
    while (lags.pending > 0) {
      if (performance.now() > setupDeadline) {
        throw new Error(`the feed did not publish the set-up within 2 minutes; projector output:\n${projectors.map((projector) => projector.output().slice(-3000)).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await analyzeSchema(url, schema);
    console.log(
      `projector: ${projectorCount} processes of the compiled app, PostgreSQL store and read models, Kafka ${brokers.join(',')} (compression: ${process.env.KAFKA_COMPRESSION ?? 'gzip'}); ${poolSize} customers set up in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; ${seconds} s per rate`,
    );

    /** The next customer in turn gives or withdraws the consent (alternating by round), so every command records an event. */
    const nextCommand = () => {
      const n = (sequence += 1);
      const subjectId = subjects[n % poolSize] as SubjectId;
      const key = `command-${n}`;
      const command: LedgerCommand =
        Math.floor(n / poolSize) % 2 === 0
          ? { type: 'GiveConsent', subjectId, brand: 'proximus', capture: appCapture(key), data: { purpose: PURPOSE, channels: ['tv-screen'] } }
          : { type: 'WithdrawConsent', subjectId, brand: 'proximus', capture: appCapture(key), data: { purpose: PURPOSE } };
      return { subjectId, key, command };
    };

    /** Commands at `rate` for `durationSeconds`, then waits (up to 30 s) for their state messages. */
    const measure = async (rate: number, durationSeconds: number): Promise<Run> => {
      const lagsMs: number[] = [];
      const appendMs: number[] = [];
      const readModelMs: number[] = [];
      let failed = 0;
      const stopCpu = cpu.start();
      const started = performance.now();
      const sent = await paced(rate, durationSeconds, async () => {
        const { subjectId, key, command } = nextCommand();
        const sentAt = performance.now();
        try {
          const result = await run(command, key);
          const acknowledged = performance.now();
          appendMs.push(acknowledged - sentAt);
          if (result.events.length > 0) {
            lags.ack(subjectId, BigInt(result.position!), acknowledged, lagsMs);
            readModelLag.ack(BigInt(result.position!), acknowledged, readModelMs);
          }
        } catch (error) {
          failed += 1;
          if (failed <= 3) console.error(`command failed: ${(error as Error).message}`);
        }
      });
      const elapsed = (performance.now() - started) / 1000;
      const deadline = performance.now() + 30_000;
      while (lags.pending > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      return { rate, sent, achievedRate: sent / elapsed, lagsMs, appendMs, readModelMs, missing: lags.pending + failed, cpu: stopCpu() };
    };

    /**
     * How fast the projector gets through a backlog: `count` commands appended as fast as 64
     * callers can, timed until the last state message arrives. Once the appends are done the
     * projector has the machine to itself: its rate then is the capacity a paced rate's lag
     * depends on.
     */
    const burst = async (count: number): Promise<void> => {
      const unused: number[] = [];
      let next = 0;
      const stopCpu = cpu.start();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < count) {
            next += 1;
            const { subjectId, key, command } = nextCommand();
            const result = await run(command, key);
            if (result.events.length > 0) lags.ack(subjectId, BigInt(result.position!), performance.now(), unused);
          }
        }),
      );
      const appended = (performance.now() - started) / 1000;
      const left = lags.pending;
      const deadline = performance.now() + 120_000;
      while (lags.pending > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const published = (performance.now() - started) / 1000;
      console.log(
        `\nbacklog of ${count} commands: appended in ${appended.toFixed(1)} s (${left} not yet published then), every state message received after ${published.toFixed(1)} s; ` +
          `then the projector caught up at ${(left / (published - appended)).toFixed(0)} commands/s${lags.pending > 0 ? `, ${lags.pending} NOT RECEIVED` : ''}\n` +
          `  ${describeCpuPer(stopCpu(), count, 'command (appending included)')}`,
      );
    };

    // Unmeasured: the broker's JVM and the projector's JIT warm up, which otherwise lands in the
    // first measured rate's tail.
    if (warmUpSeconds > 0) await measure(rates[0], warmUpSeconds);
    if (backlog > 0) await burst(backlog);
    const results: Run[] = [];
    for (const rate of rates) {
      results.push(await measure(rate, seconds));
      print(results.at(-1)!);
    }
    console.log('\nsummary (target: p99 of append acknowledgement → consent.state.v1 receipt under 200 ms)');
    for (const result of results) {
      const lags = ascending(result.lagsMs);
      const p99 = percentile(lags, 0.99);
      console.log(`  ${result.rate}/s: p50 ${percentile(lags, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms ${p99 < 200 ? '(met)' : '(MISSED)'}`);
    }
  } finally {
    await stopProjectorRig(rig, databaseUrl, receipts);
  }
}

function print(run: Run): void {
  const lags = ascending(run.lagsMs);
  const readModels = ascending(run.readModelMs);
  const appends = ascending(run.appendMs);
  console.log(
    `\n${run.rate} commands/s (achieved ${run.achievedRate.toFixed(0)}/s, ${run.sent} commands)\n` +
      `  append → consent.state.v1: p50 ${percentile(lags, 0.5).toFixed(1)} ms, p90 ${percentile(lags, 0.9).toFixed(1)} ms, p99 ${percentile(lags, 0.99).toFixed(1)} ms, max ${(lags.at(-1) ?? Number.NaN).toFixed(1)} ms` +
      `${run.missing > 0 ? `, ${run.missing} NOT RECEIVED OR FAILED` : ''}\n` +
      `  of which append → read models committed: p50 ${percentile(readModels, 0.5).toFixed(1)} ms, p99 ${percentile(readModels, 0.99).toFixed(1)} ms\n` +
      `  append acknowledgement: p50 ${percentile(appends, 0.5).toFixed(1)} ms, p99 ${percentile(appends, 0.99).toFixed(1)} ms\n` +
      `  ${describeCpuPer(run.cpu, run.sent, 'command')}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
