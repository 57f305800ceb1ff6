// Run: npm run build && node dist/bench/read-models/time-sweep.bench.js
//   BENCH_SUBJECTS customers whose two consents lapse at one instant (default 5,000), BENCH_ROUNDS (default 3).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Instant, type LedgerCommand, loadCatalogue, type SubjectId } from '@consent-ledger/domain';
import { createInMemoryEventStore } from '@consent-ledger/event-store';
import { LedgerStreams } from '@consent-ledger/ledger-commands';
import { planEvents, planReevaluation } from '../../libs/read-models/src/change-set';
import { decisionRowsOf } from '../../libs/read-models/src/current-decisions/current-decisions.projection';
import { reevaluateSubject, type SubjectView } from '../../libs/read-models/src/subject-ledger/subject-view';
import { format } from '../event-store/measurement';

/**
 * What the projector's time sweep spends planning a campaign's consents lapsing together: three
 * years after a campaign, tens of thousands of customers' Pickx and Ads & Data consents expire in
 * the same minute (found in review: 50,000 took three minutes to reach the topics, where the issue
 * asks for one). The plan now looks again only at the purposes whose next change is due; until
 * 2026-11-29 a passed expiry had it evaluate every purpose of the catalogue before and after,
 * which is the baseline here, computed on the same views in this process.
 */
const subjects = Number(process.env.BENCH_SUBJECTS ?? 5_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';
// Given yesterday and lapsing in half a year: the ledger stamps each event with today's clock.
const DAY_MS = 86_400_000;
const GIVEN = new Date(Date.now() - DAY_MS).toISOString() as Instant;
const LAPSES = new Date(Date.now() + 180 * DAY_MS).toISOString() as Instant;
const SWEPT_AT = new Date(Date.parse(LAPSES) + 30_000).toISOString() as Instant;
const catalogue = loadCatalogue(JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'catalogues', 'proximus.json'), 'utf8')));

/** The customers' histories, recorded through the ledger (in memory), then planned as the projector plans them. */
async function campaignViews(): Promise<SubjectView[]> {
  const store = createInMemoryEventStore();
  const ledger = new LedgerStreams(store, catalogue);
  let sequence = 0;
  const command = (subjectId: SubjectId, type: LedgerCommand['type'], data: Record<string, unknown>): LedgerCommand => {
    const capture = { touchpoint: 'myproximus-app', actor: { kind: 'subject' }, occurredAt: GIVEN, recordedAt: GIVEN, idempotencyKey: `sweep-${(sequence += 1)}`, noticeVersion: '2024-02-27' };
    return { type, subjectId, brand: 'proximus', capture, data } as unknown as LedgerCommand;
  };
  for (let n = 0; n < subjects; n += 1) {
    const subjectId = `campaign-${n}` as SubjectId;
    for (const each of [
      command(subjectId, 'StartRelationship', { relationship: 'customer' }),
      command(subjectId, 'GiveConsent', { purpose: PICKX, channels: ['tv-screen'], validUntil: LAPSES }),
      command(subjectId, 'GiveConsent', { purpose: ADS_AND_DATA, validUntil: LAPSES }),
    ]) {
      const key = each.capture.idempotencyKey!;
      await ledger.handle(each, { client: 'bench', idempotencyKey: key, requestFingerprint: key });
    }
  }
  return planEvents(0n, new Map(), await store.readAll(), catalogue).subjects.map((change) => change.view);
}

/** The work a passed expiry cost each subject until 2026-11-29: every purpose, before and after. */
function everyPurposeBeforeAndAfter(views: readonly SubjectView[]): number {
  let rows = 0;
  for (const view of views) {
    const after = reevaluateSubject(view, SWEPT_AT, catalogue);
    rows += decisionRowsOf(after, catalogue).length + decisionRowsOf(view, catalogue).length;
  }
  return rows;
}

function timed<T>(work: () => T): { result: T; ms: number } {
  const started = performance.now();
  const result = work();
  return { result, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const views = await campaignViews();
  console.log(`${format(subjects)} customers, each with a Pickx and an Ads & Data consent lapsing at ${LAPSES}; the sweep plans at ${SWEPT_AT}`);
  const now: number[] = [];
  const before: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const plan = timed(() => planReevaluation(BigInt(subjects * 3), views, SWEPT_AT, catalogue));
    const baseline = timed(() => everyPurposeBeforeAndAfter(views));
    // Not a plan that skipped the work: every subject's two lapsed consents are in it.
    const lapsed = plan.result.subjects.reduce((count, change) => count + change.decisions.filter((row) => row.reason === 'consent-expired').length, 0);
    if (lapsed !== subjects * 2) throw new Error(`the plan found ${lapsed} lapsed consents, expected ${subjects * 2}`);
    now.push((plan.ms * 1000) / subjects);
    before.push((baseline.ms * 1000) / subjects);
    console.log(`round ${round}: plan ${now.at(-1)!.toFixed(1)} µs per customer, every purpose before and after ${before.at(-1)!.toFixed(1)} µs`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`median: the sweep's plan ${median(now).toFixed(1)} µs per customer against ${median(before).toFixed(1)} µs evaluating every purpose: ${(median(before) / median(now)).toFixed(1)}× less`);
}

void main();
