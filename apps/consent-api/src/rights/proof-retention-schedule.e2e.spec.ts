import { rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestSchema, describeWithPostgres } from '../../../../test/support/services';
import { createConsentApi } from '../consent-api';
import { Clock } from '../ledger/clock';
import { callApi, type StoreKind, testConfig } from '../testing/test-api';

/** The schedule's interval, as PROOF_RETENTION_EVERY_HOURS gives it, made short. */
const EVERY_MS = 3000;
const FIRST_LOOK_AFTER_START_MS = 200;

interface RecordedRun {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
}

/** One store, and API processes an orchestrator starts and stops on it, each with the schedule on. */
async function sharedStore(kind: StoreKind) {
  const schema = kind === 'postgres' ? await createTestSchema('cl_schedule') : undefined;
  const config = testConfig({ projector: 'off', proofRetentionEveryMs: EVERY_MS, ...(schema && { eventStore: 'postgres', databaseUrl: schema.url }) });
  let running: NestFastifyApplication[] = [];
  const startProcess = async (overrides: { proofRetentionEveryMs?: number } = {}, clock?: Clock) => {
    const app = await createConsentApi(
      { ...config, ...overrides },
      { logger: ['error', 'warn'], proofRetentionFirstLookAfterMs: FIRST_LOOK_AFTER_START_MS, ...(clock && { clock }) },
    );
    running.push(app);
    await app.listen(0, '127.0.0.1');
    return app;
  };
  const stopEveryProcess = async () => {
    const stopping = running;
    running = [];
    await Promise.all(stopping.map((app) => app.close()));
  };
  return {
    startProcess,
    stopEveryProcess,
    /** Every run recorded, oldest first, as `GET /v1/proof-retention/runs` lists them, asked of a process without a schedule. */
    async runs(): Promise<RecordedRun[]> {
      const app = await startProcess({ proofRetentionEveryMs: 0 });
      try {
        const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
        const listed = await callApi<{ runs: RecordedRun[]; next: string | null }>(url, 'GET', '/v1/proof-retention/runs?limit=100');
        expect(listed.status).toBe(200);
        expect(listed.body.next).toBeNull();
        return listed.body.runs;
      } finally {
        await stopEveryProcess();
      }
    },
    async dispose() {
      await stopEveryProcess();
      await schema?.drop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** The clock of a host set a year ahead. */
class ClockAYearAhead extends Clock {
  override now() {
    return new Date(Date.now() + 365 * 86_400_000).toISOString() as ReturnType<Clock['now']>;
  }
}

const living = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** From the end of each run to the start of the next, in milliseconds. */
const pausesBetween = (runs: readonly RecordedRun[]) => runs.slice(1).map((run, index) => Date.parse(run.startedAt) - Date.parse(runs[index].finishedAt));

function theSchedule(kind: StoreKind) {
  let store: Awaited<ReturnType<typeof sharedStore>>;
  beforeEach(async () => {
    store = await sharedStore(kind);
  });
  afterEach(() => store.dispose());

  // Found in review: the first run came one interval after a start, so an API restarted more
  // often (daily deployments with the default 24 hours) never ran the job, and kept records past
  // their retention for ever.
  it('runs when due though every process is stopped before an interval has passed, one interval after the run before', async () => {
    const until = Date.now() + 3 * EVERY_MS;
    while (Date.now() < until) {
      await store.startProcess();
      await living(EVERY_MS / 2);
      await store.stopEveryProcess();
    }

    const runs = await store.runs();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((run) => !run.dryRun)).toBe(true);
    for (const pause of pausesBetween(runs)) {
      expect(pause).toBeGreaterThanOrEqual(EVERY_MS);
      expect(pause).toBeLessThan(2 * EVERY_MS);
    }
  }, 60_000);

  // Each process's schedule made a run of its own, back to back once they took turns.
  it('makes one run per interval, not one per process, with two processes running side by side', async () => {
    await Promise.all([store.startProcess(), store.startProcess()]);
    await living(3 * EVERY_MS);
    await store.stopEveryProcess();

    const runs = await store.runs();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const pause of pausesBetween(runs)) expect(pause).toBeGreaterThanOrEqual(EVERY_MS);
  }, 60_000);

  // Found in review: a run recorded by a host whose clock was a year ahead counted as recent for
  // every other process, look after look, so none ran for that year.
  it('runs when due though the last run was recorded by a host whose clock ran far ahead', async () => {
    await store.startProcess({}, new ClockAYearAhead());
    await living(EVERY_MS / 2);
    await store.stopEveryProcess();
    const startedAt = Date.now();

    await store.startProcess();
    await living(EVERY_MS / 2);
    await store.stopEveryProcess();

    const runs = await store.runs();
    expect(runs).toHaveLength(2);
    expect(Date.parse(runs[1].startedAt)).toBeGreaterThanOrEqual(startedAt);
    expect(Date.parse(runs[1].finishedAt)).toBeLessThanOrEqual(Date.now());
  }, 60_000);
}

describe('the proof-retention schedule of API processes on one SQLite store', () => theSchedule('sqlite'));
describeWithPostgres('the proof-retention schedule of API processes on one PostgreSQL database', () => theSchedule('postgres'));
