import fc from 'fast-check';
import { mayProcess } from '../decisions/may-process';
import { catalogue, commandSequences, consentWithdrawn, distinctInstants, histories, recorded, SAMPLE_CHANNELS, SAMPLE_PURPOSES, startRelationship } from '../testing';
import type { LedgerCommand } from './commands';
import { decide } from './decide';
import { LedgerRuleBroken } from './rules';
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

/** Decides each command against the ledger as it stands when it arrives; a refused one records nothing. */
const recordAll = (commands: readonly LedgerCommand[]) =>
  commands.reduce<LedgerEvent[]>((history, command) => {
    try {
      return [...history, ...decide(command, ledgerOf(recorded(history)), { catalogue })];
    } catch (error) {
      if (error instanceof LedgerRuleBroken) return history;
      throw error;
    }
  }, []);

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

  // Channels deliver late (a decoder offline for a day): the person's latest choice must win
  // however the commands reach the ledger, including when one repeats the choice standing then.
  it('ends on the person\'s latest choices whatever order their commands arrived in', () => {
    const later = '2026-01-01T00:00:00.000Z' as Instant;
    const finalAnswers = (history: readonly LedgerEvent[]) =>
      ['targeted-tv-advertising-pickx', 'newsletter-customers', 'direct-marketing-customers-phone-email'].flatMap((purpose) =>
        [undefined, 'email', 'tv-screen'].flatMap((channel) =>
          [undefined, 'tv-viewing'].map((source) => {
            const { allowed, reason } = mayProcess(ledgerOf(recorded(history)), catalogue, {
              purpose,
              ...(channel && { channel: channel as 'email' }),
              ...(source && { source: source as 'tv-viewing' }),
              at: later,
            });
            return `${purpose}/${channel ?? '-'}/${source ?? '-'}: ${allowed ? 'allowed' : 'denied'} (${reason})`;
          }),
        ),
      );
    fc.assert(
      fc.property(
        commandSequences().chain((made) => fc.tuple(fc.constant(made), fc.shuffledSubarray(made, { minLength: made.length, maxLength: made.length }))),
        // A customer known before any of it (ending a relationship never started is refused).
        ([made, arrived]) => {
          const known = startRelationship({ occurredAt: '2023-12-31T00:00:00Z' });
          expect(finalAnswers(recordAll([known, ...arrived]))).toEqual(finalAnswers(recordAll([known, ...made])));
        },
      ),
      { numRuns: 500 },
    );
  });

  // Auditors ask what was allowed at a past instant: once every command has arrived, the answer
  // for any instant must be what the person had chosen by then, whatever order they arrived in.
  it('answers every past instant as the order the commands were made in, whatever order they arrived in', () => {
    const answersAt = (history: readonly LedgerEvent[], instants: readonly Instant[]) =>
      instants.flatMap((at) =>
        ['targeted-tv-advertising-pickx', 'newsletter-customers', 'former-customer-winback', 'billing-accounting'].flatMap((purpose) =>
          [undefined, 'email', 'tv-screen'].flatMap((channel) =>
            [undefined, 'tv-viewing'].map((source) => {
              const { allowed, reason } = mayProcess(ledgerAsOf(recorded(history), { at }), catalogue, {
                purpose,
                ...(channel && { channel: channel as 'email' }),
                ...(source && { source: source as 'tv-viewing' }),
                at,
              });
              return `${at} ${purpose}/${channel ?? '-'}/${source ?? '-'}: ${allowed ? 'allowed' : 'denied'} (${reason})`;
            }),
          ),
        ),
      );
    fc.assert(
      fc.property(
        commandSequences(8).chain((made) => fc.tuple(fc.constant(made), fc.shuffledSubarray(made, { minLength: made.length, maxLength: made.length }))),
        ([made, arrived]) => {
          const known = startRelationship({ occurredAt: '2023-12-31T00:00:00Z' });
          // Each instant a choice was made, and the day after it (choices are a day or more apart).
          const instants = made.flatMap(({ capture }) => [capture.occurredAt, new Date(Date.parse(capture.occurredAt) + 43_200_000).toISOString()] as Instant[]);
          expect(answersAt(recordAll([known, ...arrived]), instants)).toEqual(answersAt(recordAll([known, ...made]), instants));
        },
      ),
      { numRuns: 300 },
    );
  });

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
