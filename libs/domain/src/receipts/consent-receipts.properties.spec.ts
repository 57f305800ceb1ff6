import fc from 'fast-check';
import { loadCatalogue } from '../catalogue/catalogue';
import type { LedgerEvent, RecordedLedgerEvent } from '../ledger/events';
import {
  catalogue,
  choiceAt,
  consentGiven,
  objectionRaised,
  objectionReviewed,
  recorded,
  relationshipEnded,
  relationshipStarted,
  SAMPLE_PURPOSES,
  subjectErased,
} from '../testing';
import { consentReceiptOf, consentReceiptsOf, decisionOf, decisionsOf, type ProvenLedgerEvent } from './consent-receipt';

const DAY = 86_400_000;
const ORIGIN = Date.UTC(2024, 0, 1);
const dayOf = (day: number) => new Date(ORIGIN + day * DAY).toISOString();

/** Pickx ads after their notice changed in the middle of the generated period: earlier consents lapse. */
const noticeChanged = loadCatalogue({
  ...catalogue.definition,
  purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === 'targeted-tv-advertising-pickx' ? { ...purpose, noticeChangedAt: dayOf(20) } : purpose)),
});

/**
 * Beyond the everyday choices: erasure, reviewed objections, consents that expire or name an old
 * notice, a second brand, and paperwork recorded days late: each changes a field of some receipt.
 */
const rarerChoiceAt = (occurredAt: string, recordedAt: string): fc.Arbitrary<LedgerEvent> =>
  fc.oneof(
    fc.constant(subjectErased({ occurredAt, recordedAt })),
    fc.constantFrom('direct-marketing', 'targeted-tv-advertising-pickx').map((target) => objectionRaised({ target, needsReview: true, occurredAt, recordedAt })),
    fc
      .tuple(fc.constantFrom('direct-marketing', 'targeted-tv-advertising-pickx'), fc.constantFrom('upheld' as const, 'rejected' as const))
      .map(([target, outcome]) => objectionReviewed({ target, outcome, occurredAt, recordedAt })),
    fc
      .tuple(fc.constantFrom(...SAMPLE_PURPOSES), fc.integer({ min: 1, max: 15 }), fc.constantFrom('2023-01-01', '2024-02-27'), fc.constantFrom('proximus' as const, 'scarlet' as const))
      .map(([purpose, days, noticeVersion, brand]) =>
        consentGiven({ purpose, brand, occurredAt, recordedAt, noticeVersion, expiresAt: new Date(Date.parse(occurredAt) + days * DAY).toISOString() as never }),
      ),
    fc.constant(relationshipStarted({ brand: 'scarlet', relationship: 'customer', occurredAt, recordedAt })),
    fc.constant(relationshipEnded({ brand: 'scarlet', occurredAt, recordedAt })),
  );

/** Histories over a few weeks, out of order, where several choices may share an instant. */
const receiptHistories = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 }), fc.boolean()).chain(([day, lateBy, rare]) => {
    const occurredAt = dayOf(day);
    return rare ? rarerChoiceAt(occurredAt, dayOf(day + lateBy)) : choiceAt(occurredAt);
  }),
  { maxLength: 30 },
);

/** Gives recorded events the chain link a store would report. */
const proven = (history: readonly RecordedLedgerEvent[]): ProvenLedgerEvent[] =>
  history.map((event) => ({
    ...event,
    chain: {
      streamName: `consent-ledger-${event.data.subjectId}`,
      position: String(100 + event.revision),
      hash: `hash-${event.revision}`,
      previousHash: `hash-${event.revision - 1}`,
      storedAt: event.data.capture.recordedAt,
    },
  }));

describe('the receipts of a whole history', () => {
  it.each([
    ['the catalogue', catalogue],
    ['a catalogue whose notice changed', noticeChanged],
  ])('are the receipt of each event on its own, for any history and %s', (_name, terms) =>
    fc.assert(
      fc.property(receiptHistories, (events) => {
        const history = proven(recorded(events));
        expect(consentReceiptsOf(history, terms)).toEqual(history.map((event) => consentReceiptOf(event, history, terms)));
      }),
      { numRuns: 300 },
    ),
  );

  it('tell the decision of each event on its own, for any history', () =>
    fc.assert(
      fc.property(receiptHistories, (events) => {
        const history = recorded(events);
        expect(decisionsOf(history, catalogue)).toEqual(history.map((event) => decisionOf(event, history, catalogue)));
      }),
      { numRuns: 300 },
    ));
});
