import fc from 'fast-check';
import { mayProcess } from '../decisions/may-process';
import { catalogue, consentWithdrawn, distinctInstants, histories, recorded, SAMPLE_CHANNELS, SAMPLE_PURPOSES } from '../testing';
import type { Instant } from '../vocabulary';
import type { LedgerEvent } from './events';
import { evolve, ledgerAsOf, ledgerOf } from './ledger';

const answers = (events: readonly LedgerEvent[], at: Instant) =>
  SAMPLE_PURPOSES.flatMap((purpose) =>
    [undefined, ...SAMPLE_CHANNELS].map((channel) => {
      const { allowed, reason } = mayProcess(ledgerAsOf(recorded(events), { at }), catalogue, { purpose, channel, at });
      return `${purpose}/${channel ?? '-'}: ${allowed ? 'allowed' : 'denied'} (${reason})`;
    }),
  );

const instants = distinctInstants(1).map(([at]) => at as Instant);

describe('the ledger, for any history', () => {
  it('folds to the same ledger however often it is replayed', () =>
    fc.assert(fc.property(histories(), (events) => expect(ledgerOf(recorded(events))).toEqual(ledgerOf(recorded(events))))));

  it('folds a history in two parts to the same ledger as in one go', () =>
    fc.assert(
      fc.property(histories(), fc.nat(), (events, cut) => {
        const history = recorded(events);
        const split = history.length === 0 ? 0 : cut % history.length;
        const resumed = history.slice(split).reduce(evolve, ledgerOf(history.slice(0, split)));
        expect(resumed).toEqual(ledgerOf(history));
      }),
    ));

  it('gives the same answers whatever order the choices reached the ledger in', () =>
    fc.assert(
      fc.property(
        histories(15).chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        instants,
        ([events, arrivalOrder], at) => expect(answers(arrivalOrder, at)).toEqual(answers(events, at)),
      ),
      { numRuns: 300 },
    ));

  it('ignores choices made after the instant asked about', () =>
    fc.assert(
      fc.property(histories(), instants, (events, at) => {
        const madeBy = events.filter((event) => event.data.capture.occurredAt <= at);
        expect(answers(events, at)).toEqual(answers(madeBy, at));
      }),
    ));

  it('denies a consent-based purpose from the moment the person last withdrew it', () =>
    fc.assert(
      fc.property(histories(), (events) => {
        const purpose = 'targeted-tv-advertising-pickx';
        const withdrawal = consentWithdrawn({ purpose, occurredAt: '2025-06-01T00:00:00Z' });
        const history = recorded([...events, withdrawal]);
        for (const at of ['2025-06-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'] as Instant[]) {
          expect(mayProcess(ledgerAsOf(history, { at }), catalogue, { purpose, at }).allowed).toBe(false);
        }
      }),
    ));
});
