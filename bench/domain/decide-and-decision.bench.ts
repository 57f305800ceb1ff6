// Run: npm run build && node dist/bench/domain/decide-and-decision.bench.js
import { performance } from 'node:perf_hooks';
import {
  decide,
  type LedgerEvent,
  ledgerOf,
  loadCatalogue,
  mayProcess,
  type RecordedLedgerEvent,
} from '@consent-ledger/domain';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GiveConsent, Instant, SubjectId } from '@consent-ledger/domain';

/**
 * How fast the pure domain decides one command on a ledger of 1,000 events, and answers one
 * decision, against a baseline in the same process: folding the same 1,000 events from scratch
 * (what a request would pay without a cached ledger).
 */
// The command cites a notice of 2025, the history two of 2024: the catalogue must know all three, or decide only refuses.
const catalogue = loadCatalogue({
  ...JSON.parse(readFileSync(join(__dirname, '../../../catalogues/proximus.json'), 'utf8')),
  noticeVersion: '2025-01-01',
  earlierNoticeVersions: ['2024-02-27', '2024-06-01'],
});
const subjectId = 'bench-subject' as SubjectId;
const purposes = ['targeted-tv-advertising-pickx', 'customer-profiling-consent-based', 'direct-marketing-prospects-phone-email'];
const day = (n: number) => new Date(Date.UTC(2020, 0, 1) + n * 3_600_000).toISOString() as Instant;

const capture = (n: number) => ({
  touchpoint: 'myproximus-app' as const,
  actor: { kind: 'subject' as const },
  occurredAt: day(n),
  recordedAt: day(n),
  idempotencyKey: `key-${n}`,
  noticeVersion: n % 2 === 0 ? '2024-02-27' : '2024-06-01',
  locale: 'nl-BE',
});

const history: RecordedLedgerEvent[] = [];
for (let n = 0; history.length < 1_000; n++) {
  const purpose = purposes[n % purposes.length];
  const events: LedgerEvent[] =
    n === 0
      ? [{ type: 'RelationshipStarted', data: { subjectId, brand: 'proximus', capture: capture(n), relationship: 'customer', segment: 'residential' } }]
      : n % 5 === 0
        ? [{ type: 'ConsentWithdrawn', data: { subjectId, brand: 'proximus', capture: capture(n), purpose } }]
        : [{ type: 'ConsentGiven', data: { subjectId, brand: 'proximus', capture: capture(n), purpose, channels: [], noticeVersion: capture(n).noticeVersion } }];
  for (const event of events) history.push({ ...event, eventId: `e-${history.length}`, revision: history.length });
}

const ledger = ledgerOf(history);
const command: GiveConsent = {
  type: 'GiveConsent',
  subjectId,
  brand: 'proximus',
  capture: { ...capture(5_000), noticeVersion: '2025-01-01' },
  data: { purpose: 'targeted-tv-advertising-pickx' },
};
const at = day(5_001);

function opsPerSecond(name: string, work: () => unknown, minMillis = 1_000): number {
  for (let i = 0; i < 1_000; i++) work();
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minMillis) {
    for (let i = 0; i < 1_000; i++) work();
    iterations += 1_000;
    elapsed = performance.now() - started;
  }
  const rate = (iterations / elapsed) * 1_000;
  console.log(`${name.padEnd(58)} ${Math.round(rate).toLocaleString('en').padStart(12)} ops/s  ${((elapsed * 1_000) / iterations).toFixed(2).padStart(8)} µs/op`);
  return rate;
}

console.log(`ledger of ${history.length} events, catalogue of ${catalogue.purposes.size} purposes\n`);
const fold = opsPerSecond('baseline: fold 1,000 events from scratch', () => ledgerOf(history), 2_000);
const decideRate = opsPerSecond('decide GiveConsent on the folded ledger', () => decide(command, ledger, { catalogue }));
const decisionRate = opsPerSecond('answer one decision (consent purpose, channel)', () =>
  mayProcess(ledger, catalogue, { purpose: 'targeted-tv-advertising-pickx', channel: 'tv-screen', at }),
);
const liRate = opsPerSecond('answer one decision (legitimate interest, channel)', () =>
  mayProcess(ledger, catalogue, { purpose: 'direct-marketing-customers-phone-email', channel: 'email', at }),
);
console.log(`\nratios against the fold baseline: decide ${(decideRate / fold).toFixed(0)}x, decision ${(decisionRate / fold).toFixed(0)}x, legitimate-interest decision ${(liRate / fold).toFixed(0)}x`);
