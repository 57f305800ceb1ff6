// Shared by the projector benchmarks; not run on its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { onDatabase } from '../support/postgres';

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
