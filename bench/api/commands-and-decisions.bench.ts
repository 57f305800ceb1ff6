// Run: npm run build && node dist/bench/api/commands-and-decisions.bench.js
//   PostgreSQL on TEST_DATABASE_URL (default database `test`, a fresh schema per run).
//   BENCH_SECONDS per measurement (default 10), BENCH_ROUNDS (default 3), BENCH_DECISION_RATES (default "5000,1000"),
//   PROJECTOR=in-process|off for the service under test (default in-process, as `npm start` runs it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { format, measureRate, medianRate, printRate, printRatio, type Rate } from '../event-store/measurement';
import { giveConsentBody } from '../support/command-bodies';
import { HttpConnections } from '../support/http-connections';
import { percentile } from '../support/percentile';
import { describeCpuPer, ProcessCpu } from '../support/process-cpu';
import { rawInserts, startConsentApi } from '../support/service-process';
import { analyzeSchema, benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';

/**
 * Durable commands per second over HTTP, 64 concurrent clients, against the compiled service on
 * PostgreSQL, beside the raw single-row INSERT rate of the same database on 64 connections,
 * measured in the same run (rounds alternate, so load from elsewhere on the machine hits both
 * alike). Then decision latency at a paced, open-loop request rate: requests leave on schedule
 * whether or not earlier ones have returned, and latency counts from the scheduled instant, so a
 * stall shows up in p99 instead of slowing the load down. Each round also prints the CPU the
 * service, PostgreSQL and this load generator spent per operation: they share the same cores.
 */
const durationMs = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const decisionRates = (process.env.BENCH_DECISION_RATES ?? '5000,1000').split(',').map(Number);
const projector = process.env.PROJECTOR ?? 'in-process';
const root = join(__dirname, '..', '..', '..');
const KEY = `bench-${randomBytes(16).toString('hex')}`;
const CLIENTS = 64;

async function main(): Promise<void> {
  const schema = `bench_api_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const service = await startConsentApi(root, { databaseUrl: url, dataDir, key: KEY, scopes: ['commands:write', 'decisions:read'], projector });
  const http = new HttpConnections(service.url, { authorization: `Bearer ${KEY}` });
  const cpu = new ProcessCpu({ service: [service.pid] });
  const measured = async (label: string, operation: () => Promise<void>, unit: string): Promise<Rate> => {
    const stop = cpu.start();
    const rate = await measureRate(label, { concurrency: CLIENTS, durationMs }, operation);
    printRate(rate);
    console.log(`  ${describeCpuPer(stop(), rate.operations, unit)}`);
    return rate;
  };
  try {
    console.log(`PostgreSQL ${await onDatabase(url, async (client) => (await client.query('SHOW server_version')).rows[0].server_version)}, `
      + `synchronous_commit=${await onDatabase(url, async (client) => (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit)}; `
      + `service: compiled API, projector ${projector}; ${CLIENTS} HTTP clients; ${durationMs / 1000} s per run\n`);
    const raw = await rawInserts(url, CLIENTS);
    const subjects: string[] = [];
    const commands = newSubjectCommands(http, subjects);
    try {
      await measureRate('warm-up', { concurrency: CLIENTS, durationMs: 2000 }, raw.insert);
      await measureRate('warm-up', { concurrency: CLIENTS, durationMs: 2000 }, commands);
      await analyzeSchema(url, schema);
      const runs: Record<'raw' | 'commands', Rate[]> = { raw: [], commands: [] };
      for (let round = 1; round <= rounds; round += 1) {
        console.log(`round ${round}`);
        runs.raw.push(await measured('raw single-row INSERT, 64 connections', raw.insert, 'INSERT'));
        runs.commands.push(await measured('POST /v1/commands (201, durable), 64 clients', commands, 'command'));
      }
      console.log(`\nMedians of ${rounds} rounds`);
      printRate(medianRate(runs.raw));
      printRate(medianRate(runs.commands));
      printRatio('durable commands over HTTP vs raw INSERT (target ≥ 0.60)', medianRate(runs.commands), medianRate(runs.raw));
    } finally {
      await raw.close();
    }

    console.log(`\nDecisions, paced (open loop), over ${format(subjects.length)} subjects; latency from each request's scheduled instant`);
    for (const rate of decisionRates) {
      const stop = cpu.start();
      const decisions = await pacedDecisions(http, subjects, rate, durationMs);
      console.log(
        `${`GET /v1/subjects/{id}/decision at ${format(rate)}/s`.padEnd(58)} achieved ${format(decisions.achievedRate)} /s   `
          + `p50 ${decisions.p50Ms.toFixed(2)} ms   p99 ${decisions.p99Ms.toFixed(2)} ms   (${decisions.completed} answered, ${decisions.failed} failed)`,
      );
      console.log(`  ${describeCpuPer(stop(), decisions.completed, 'decision')}`);
    }
  } finally {
    http.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

/** Each command gives consent for a subject the service has not seen: a stream read, a decision, a durable append. */
function newSubjectCommands(http: HttpConnections, subjects: string[]) {
  let sequence = 0;
  return async () => {
    const subjectId = `bench-${(sequence += 1)}`;
    const body = giveConsentBody(subjectId);
    const response = await http.send('POST', '/v1/commands', body, { 'idempotency-key': `key-${subjectId}` });
    if (response.status !== 201) throw new Error(`command answered ${response.status}: ${response.body}`);
    subjects.push(subjectId);
  };
}

async function pacedDecisions(http: HttpConnections, subjects: readonly string[], rate: number, forMs: number) {
  const latencies: number[] = [];
  let failed = 0;
  const intervalMs = 1000 / rate;
  const total = Math.floor((rate * forMs) / 1000);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const scheduled = started + index * intervalMs;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const subjectId = subjects[(index * 7919) % subjects.length];
    inFlight.push(
      http.send('GET', `/v1/subjects/${subjectId}/decision?purpose=targeted-tv-advertising-pickx&channel=tv-screen`).then(
        (response) => {
          if (response.status === 200) latencies.push(performance.now() - scheduled);
          else failed += 1;
        },
        () => {
          failed += 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { achievedRate: latencies.length / seconds, completed: latencies.length, failed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
