// Run: npm run build && node dist/bench/domain/receipts.bench.js
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  auditorTimeline,
  consentReceiptOf,
  consentReceiptsOf,
  decisionOf,
  decisionsOf,
  type Instant,
  type LedgerEvent,
  ledgerOf,
  loadCatalogue,
  type ProvenLedgerEvent,
  type SubjectId,
} from '@consent-ledger/domain';

/**
 * The receipts of one subject whose history is years of toggles on the decoder menu (consent to
 * Pickx ads given, withdrawn, given again), at 500 and 1,500 events: the whole-history function
 * against, in the same run, folding the history once (the floor any answer pays) and the receipt of
 * each event computed on its own (what the receipts route and the export did before); and the
 * auditor timeline of the same history against the same fold.
 */
const catalogue = loadCatalogue(JSON.parse(readFileSync(join(__dirname, '../../../catalogues/proximus.json'), 'utf8')));
const subjectId = 'bench-subject' as SubjectId;
const hour = (n: number) => new Date(Date.UTC(2020, 0, 1) + n * 3_600_000).toISOString() as Instant;

function toggles(count: number): ProvenLedgerEvent[] {
  const capture = (n: number) => ({ touchpoint: 'tv-menu' as const, actor: { kind: 'subject' as const }, occurredAt: hour(n), recordedAt: hour(n), idempotencyKey: `key-${n}` });
  const history: ProvenLedgerEvent[] = [];
  for (let n = 0; history.length < count; n++) {
    const event: LedgerEvent =
      n === 0
        ? { type: 'RelationshipStarted', data: { subjectId, brand: 'proximus', capture: capture(n), relationship: 'customer', segment: 'residential' } }
        : n % 2 === 1
          ? { type: 'ConsentGiven', data: { subjectId, brand: 'proximus', capture: capture(n), purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], noticeVersion: '2024-02-27' } }
          : { type: 'ConsentWithdrawn', data: { subjectId, brand: 'proximus', capture: capture(n), purpose: 'targeted-tv-advertising-pickx' } };
    const revision = history.length;
    const chain = { streamName: `consent-ledger-${subjectId}`, position: String(revision), hash: `h${revision}`, previousHash: `h${revision - 1}`, storedAt: hour(n) };
    history.push({ ...event, eventId: `e-${revision}`, revision, chain } as ProvenLedgerEvent);
  }
  return history;
}

/** Mean milliseconds per run, repeating for at least `minMillis` (once at least, after one warm-up). */
function millisPerRun(work: () => unknown, minMillis: number): number {
  work();
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    work();
    runs++;
    elapsed = performance.now() - started;
  } while (elapsed < minMillis);
  return elapsed / runs;
}

const line = (name: string, millis: number, fold: number) =>
  console.log(`  ${name.padEnd(46)} ${millis.toFixed(2).padStart(10)} ms  ${(millis / fold).toFixed(1).padStart(8)}x the fold`);

for (const count of [500, 1_500]) {
  const history = toggles(count);
  console.log(`${count} events (consent given / withdrawn on the decoder), catalogue of ${catalogue.purposes.size} purposes`);
  const fold = millisPerRun(() => ledgerOf(history), 1_000);
  line('baseline: fold the history once', fold, fold);
  const whole = millisPerRun(() => consentReceiptsOf(history, catalogue), 2_000);
  line('receipts of the whole history', whole, fold);
  const eachOnItsOwn = millisPerRun(() => history.map((event) => consentReceiptOf(event, history, catalogue)), 0);
  line('receipt of each event on its own (before)', eachOnItsOwn, fold);
  const decisions = millisPerRun(() => decisionsOf(history, catalogue), 1_000);
  line('decisions of the whole history (export)', decisions, fold);
  const decisionsOnTheirOwn = millisPerRun(() => history.map((event) => decisionOf(event, history, catalogue)), 0);
  line('decision of each event on its own (before)', decisionsOnTheirOwn, fold);
  const timeline = millisPerRun(() => auditorTimeline(history, catalogue), 1_000);
  line('auditor timeline', timeline, fold);
  console.log(`  whole history against each on its own: receipts ${(eachOnItsOwn / whole).toFixed(0)}x faster, decisions ${(decisionsOnTheirOwn / decisions).toFixed(0)}x faster\n`);
}
