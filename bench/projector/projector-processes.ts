// Shared by the projector benchmarks; not run on its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { type Catalogue, type Instant, type LedgerCommand, loadCatalogue } from '@consent-ledger/domain';
import { openPostgresEventStore, type PostgresEventStore } from '@consent-ledger/event-store';
import { LedgerStreams } from '@consent-ledger/ledger-commands';
import { onDatabase, schemaUrl } from '../support/postgres';
import type { FeedReceiptsSettings } from './feed-receipts';

/** Starts `count` operations spread evenly over each second (not in bursts), without waiting for them to finish. */
export async function paced(rate: number, durationSeconds: number, operation: (index: number) => Promise<unknown>): Promise<number> {
  const total = rate * durationSeconds;
  const intervalMs = 1000 / rate;
  const start = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < total; i += 1) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const running = operation(i).finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  return total;
}

/** True once one process keeps the read models and publishes (the others stand by). */
export async function rolesSettled(url: string, schema: string): Promise<boolean> {
  const rows = await onDatabase(url, async (client) =>
    (await client.query<{ role: string; holder: string }>(`SELECT role, holder FROM ${schema}.rm_leases WHERE expires_at >= now() AND role NOT LIKE 'candidate:%'`)).rows,
  );
  return rows.length === 2 && rows[0].holder === rows[1].holder;
}

export interface ProjectorProcess {
  readonly pid?: number;
  /** Resolves once the process says it runs; rejects if it exits first. */
  readonly running: Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** The compiled projector (`dist/apps/projector`) in a process of its own, on the PostgreSQL store at `url`. */
export function startProjector(settings: {
  readonly root: string;
  readonly brokers: readonly string[];
  readonly url: string;
  readonly prefix: string;
  readonly instanceId: string;
  readonly secrets: { readonly adsAndDataKey: string; readonly masterKey: string };
}): ProjectorProcess {
  const { root, brokers, url, prefix, instanceId, secrets } = settings;
  // BENCH_PROFILE=<dir> writes a CPU profile of the projector there when it stops.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, join(root, 'dist/apps/projector/src/main.js')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      EVENT_STORE: 'postgres',
      DATABASE_URL: url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-projector-')),
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      PROJECTOR_INSTANCE_ID: instanceId,
      ADS_AND_DATA_KEY: secrets.adsAndDataKey,
      MASTER_KEY: secrets.masterKey,
      KAFKA_COMPRESSION: process.env.KAFKA_COMPRESSION ?? 'gzip',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = new Promise<void>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('running (event store')) resolve();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then(() => reject(new Error(`the projector exited:\n${output}`)));
  });
  return {
    pid: child.pid,
    running,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A benchmark's own schema, event store and projector processes (the production shape: one leads, the others stand by). */
export interface ProjectorRig {
  readonly schema: string;
  /** The schema's database URL, for the store and the projectors. */
  readonly url: string;
  /** Before every topic name: KAFKA_TOPIC_PREFIX (to keep runs apart on a shared broker), then the schema. */
  readonly prefix: string;
  readonly store: PostgresEventStore;
  readonly catalogue: Catalogue;
  /** The write side, deciding and appending as the API does. */
  readonly streams: LedgerStreams;
  readonly projectors: readonly ProjectorProcess[];
}

export async function startProjectorRig(settings: {
  readonly root: string;
  readonly brokers: readonly string[];
  /** The database the run's schema is created in (and dropped from). */
  readonly databaseUrl: string;
  readonly name: string;
  readonly projectorCount: number;
}): Promise<ProjectorRig> {
  const { root, brokers, databaseUrl, name, projectorCount } = settings;
  const schema = `${name}_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  const prefix = `${process.env.KAFKA_TOPIC_PREFIX ?? ''}${schema}.`;
  const store = await openPostgresEventStore({ url, poolSize: 8 });
  const catalogue = loadCatalogue(JSON.parse(readFileSync(join(root, 'catalogues/proximus.json'), 'utf8')));
  const secrets = { adsAndDataKey: randomBytes(32).toString('base64'), masterKey: randomBytes(32).toString('base64') };
  const projectors = Array.from({ length: projectorCount }, (_, i) => startProjector({ root, brokers, url, prefix, instanceId: `bench-${i + 1}`, secrets }));
  return { schema, url, prefix, store, catalogue, streams: new LedgerStreams(store, catalogue), projectors };
}

/** Resolves once every projector runs and one of them keeps the read models and publishes; throws after a minute. */
export async function rolesTaken(rig: ProjectorRig, databaseUrl: string): Promise<void> {
  await Promise.all(rig.projectors.map((projector) => projector.running));
  const deadline = performance.now() + 60_000;
  while (!(await rolesSettled(databaseUrl, rig.schema))) {
    if (performance.now() > deadline) throw new Error('no projector took both roles within a minute');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The worker that stamps each state message on receipt (`feed-receipts.ts`); start it once the projectors have created the topics. */
export function feedReceiptsWorker(rig: ProjectorRig, brokers: readonly string[], also: Pick<FeedReceiptsSettings, 'pickxAudienceTopic'> = {}): Worker {
  return new Worker(join(__dirname, 'feed-receipts.js'), {
    workerData: {
      brokers: [...brokers],
      stateTopic: `${rig.prefix}consent.state.v1`,
      groupId: `${rig.schema}-reader`,
      databaseUrl: rig.url,
      checkpointChannel: `rm_checkpoint:${rig.schema}`,
      consumer: process.env.BENCH_CONSUMER === 'kafkajs' ? 'kafkajs' : 'kcat',
      ...also,
    } satisfies FeedReceiptsSettings,
  });
}

/**
 * Stops the receipts worker and the projectors, prints the projectors' warnings and errors, closes
 * the store and drops the schema. A role handed over or a failed batch shows up in the tail: say
 * so beside it. (kafkajs's own lines at start-up, topic creation racing and the first group
 * rebalance, are left out.) They are read before the stop, whose own hand-over of the roles logs
 * two warnings that were no hand-over.
 */
export async function stopProjectorRig(rig: ProjectorRig, databaseUrl: string, receipts: Worker | undefined): Promise<void> {
  if (receipts) {
    const exited = new Promise((resolve) => receipts.once('exit', resolve));
    receipts.postMessage('stop');
    await exited;
  }
  const warnings = rig.projectors.flatMap((projector) =>
    projector.output().split('\n').filter((line) => /\b(WARN|ERROR)\b/.test(line) && !/kafkajs|ServerKafka/.test(line)),
  );
  await Promise.all(rig.projectors.map((projector) => projector.stop()));
  if (warnings.length > 0) console.log(`\nprojector warnings and errors during the run (${warnings.length}):\n${warnings.slice(0, 10).join('\n')}`);
  await rig.store.close();
  await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${rig.schema} CASCADE`)).catch(() => undefined);
}

/** A choice made in the app now, under the catalogue's notice, recorded under idempotency key `key`. */
export function appCapture(key: string) {
  const now = new Date().toISOString() as Instant;
  return { touchpoint: 'myproximus-app' as const, actor: { kind: 'subject' as const }, occurredAt: now, recordedAt: now, idempotencyKey: key, noticeVersion: '2024-02-27' };
}

/** Decides and appends `command` as the API would for a client named `bench`. */
export async function record(rig: ProjectorRig, command: LedgerCommand, key: string) {
  return (await rig.streams.handle(command, { client: 'bench', idempotencyKey: key, requestFingerprint: key })).handled;
}
