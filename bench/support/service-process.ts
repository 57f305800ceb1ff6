// Shared by the benchmarks; not run on its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { onDatabase } from './postgres';

export interface ServiceProcess {
  readonly url: string;
  readonly pid?: number;
  stop(): Promise<void>;
}

/**
 * Starts a compiled HTTP service in a process of its own, with only the environment given (and
 * PATH), and resolves once it prints `listening on http://host:port`.
 */
export async function startServiceProcess(script: string, env: Readonly<Record<string, string>>, options: { cwd: string; nodeOptions?: readonly string[] }): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeOptions ?? []), script], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (listening) resolve(listening[1]);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The compiled consent API on PostgreSQL, as a deployment runs it, with one key of the scopes the
 * benchmark needs. BENCH_PROFILE names a directory for a CPU profile of it.
 */
export function startConsentApi(
  root: string,
  options: { readonly databaseUrl: string; readonly dataDir: string; readonly key: string; readonly scopes: readonly string[]; readonly projector?: string },
): Promise<ServiceProcess> {
  return startServiceProcess(
    join(root, 'dist', 'apps', 'consent-api', 'src', 'main.js'),
    {
      EVENT_STORE: 'postgres',
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: options.dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      PROJECTOR: options.projector ?? 'in-process',
      MASTER_KEY: randomBytes(32).toString('base64'),
      CONSENT_API_KEYS: JSON.stringify([{ key: options.key, client: 'bench', scopes: options.scopes }]),
    },
    { cwd: root, nodeOptions: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [] },
  );
}

/**
 * Baseline: one ~500-byte row per INSERT, each its own durable autocommit transaction, on
 * `connections` connections, closed after `idleMs` unused (to leave PostgreSQL's 100 connections
 * to the next contender).
 */
export async function rawInserts(url: string, connections: number, idleMs = 10_000) {
  await onDatabase(url, (client) =>
    client.query('CREATE TABLE raw_inserts (id bigserial PRIMARY KEY, stream_name text NOT NULL, event_id text NOT NULL, data jsonb NOT NULL)'),
  );
  const pool = new Pool({ connectionString: url, max: connections, idleTimeoutMillis: idleMs });
  const data = { purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], wording: 'x'.repeat(400) };
  let sequence = 0;
  return {
    insert: async () => {
      sequence += 1;
      await pool.query('INSERT INTO raw_inserts (stream_name, event_id, data) VALUES ($1, $2, $3)', [`subject-${sequence}`, `event-${sequence}`, data]);
    },
    close: () => pool.end(),
  };
}
