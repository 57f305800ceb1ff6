import { mayProcess } from '../decisions/may-process';
import { proofRetentionOf } from '../retention/proof-retention';
import {
  append,
  catalogue,
  consentGiven,
  consentWithdrawn,
  endRelationship,
  given,
  giveConsent,
  instant,
  objectionRaised,
  objectionWithdrawn,
  relationshipEnded,
  relationshipStarted,
  startRelationship,
  withdrawConsent,
} from '../testing';
import type { LedgerCommand } from './commands';
import type { RecordedLedgerEvent } from './events';
import { ledgerAsOf } from './ledger';
import { LedgerRuleBroken } from './rules';

const TV_ADS = 'targeted-tv-advertising-pickx';
/** Pickx ads exist only for customers. */
const customer = () => relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' });

describe('choices that arrive late or out of order', () => {
  it('records an older withdrawal that arrives after a newer consent, as evidence', () =>
    given(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }))
      .when(withdrawConsent({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z' }))
      .then(consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z' })));

  it('lets the newer consent keep winning over the older withdrawal recorded after it', () =>
    expect(
      given(
        customer(),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z', recordedAt: '2024-06-02T00:00:00Z' }),
      ).mayProcess({ purpose: TV_ADS, at: '2024-06-10T00:00:00Z' }),
    ).toMatchObject({
      allowed: true,
      basedOn: [
        { eventId: 'event-0', revision: 0 },
        { eventId: 'event-1', revision: 1 },
      ],
    }));

  it('records an older consent that arrives after a newer withdrawal, without reviving it', () => {
    const subject = given(
      customer(),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T00:00:00Z' }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z', recordedAt: '2024-07-05T00:00:00Z' }),
    );
    expect(subject.mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z' }).reason).toBe('consent-withdrawn');
    expect(subject.mayProcess({ purpose: TV_ADS, at: '2024-06-15T00:00:00Z' }).reason).toBe('consent-active');
  });

  it('records a consent that arrives late after a newer withdrawal rather than ignoring it', () =>
    given(
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T00:00:00Z' }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
    )
      .when(giveConsent({ purpose: TV_ADS, occurredAt: '2024-06-01T00:00:00Z' }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' })));

  it('keeps the latest withdrawal when an older one arrives after it', () =>
    expect(
      given(
        customer(),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-01T00:00:00Z', recordedAt: '2024-07-02T00:00:00Z' }),
      ).mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z' }).reason,
    ).toBe('consent-withdrawn'));

  it('keeps an objection raised later than a late-arriving withdrawal of it', () =>
    expect(
      given(
        relationshipStarted(),
        objectionRaised({ target: 'direct-marketing', occurredAt: '2024-07-01T00:00:00Z' }),
        objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T00:00:00Z', recordedAt: '2024-07-02T00:00:00Z' }),
      ).mayProcess({ purpose: 'direct-marketing-customers-phone-email', at: '2024-07-10T00:00:00Z' }).reason,
    ).toBe('objected'));

  it('keeps a relationship ended later than a late-arriving start', () =>
    expect(
      given(
        relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2025-01-31T00:00:00Z' }),
        relationshipStarted({ occurredAt: '2021-01-01T00:00:00Z', segment: 'business' }),
      ).mayProcess({ purpose: 'service-provision', at: '2025-06-01T00:00:00Z' }).reason,
    ).toBe('no-relationship'));
});

// Found in review (over HTTP): the end of a first contract arriving after the end of the next one
// was dropped, so the answers for the years between depended on the order billing sent them in.
describe('contracts whose ends arrive out of order', () => {
  const made = {
    consent: giveConsent({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2021-01-01T00:00:00Z' }),
    firstEnd: endRelationship({ occurredAt: '2022-01-01T00:00:00Z' }),
    secondStart: startRelationship({ occurredAt: '2023-01-01T00:00:00Z' }),
    secondEnd: endRelationship({ occurredAt: '2024-01-01T00:00:00Z' }),
  };
  const recordAll = (commands: LedgerCommand[]): RecordedLedgerEvent[] =>
    commands.reduce(append, append([], startRelationship({ occurredAt: '2020-01-01T00:00:00Z' })));
  const answers = (history: readonly RecordedLedgerEvent[]) =>
    ['2021-06-01', '2022-06-01', '2023-06-01', '2024-06-01'].flatMap((day) => {
      const at = instant(`${day}T00:00:00Z`);
      return ['service-provision', TV_ADS].map((purpose) => {
        const { allowed, reason, validUntil } = mayProcess(ledgerAsOf(history, { at }), catalogue, { purpose, at });
        return `${day} ${purpose}: ${allowed ? 'allowed' : 'denied'} (${reason}) until ${validUntil}`;
      });
    });
  const inOrder = recordAll([made.consent, made.firstEnd, made.secondStart, made.secondEnd]);
  const lateFirstEnd = recordAll([made.consent, made.secondEnd, made.secondStart, made.firstEnd]);

  it('records the first end that arrives last', () => expect(lateFirstEnd).toHaveLength(inOrder.length));

  it('answers the same for every year', () => expect(answers(lateFirstEnd)).toEqual(answers(inOrder)));

  it('keeps the proof of the consent for the same time', () => {
    const consentHolds = (history: readonly RecordedLedgerEvent[]) =>
      proofRetentionOf(history, catalogue, instant('2040-01-01T00:00:00Z'), []).holds.filter((hold) => hold.purpose === TV_ADS);
    expect(consentHolds(lateFirstEnd)).toEqual(consentHolds(inOrder));
  });
});

// Found by the property below in CI: a contract's start dated inside a contract the ledger still
// thought running recorded nothing, and so did an end dated inside a period it thought ended; the
// end or start that arrived later, dated between, then needed them. A consent given under the
// second contract outlived its end.
describe('contracts whose starts and ends arrive out of order', () => {
  const made = [
    endRelationship({ occurredAt: '2022-01-01T00:00:00Z' }),
    startRelationship({ occurredAt: '2023-01-01T00:00:00Z' }),
    giveConsent({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2023-06-01T00:00:00Z' }),
    endRelationship({ occurredAt: '2024-01-01T00:00:00Z' }),
    startRelationship({ occurredAt: '2025-01-01T00:00:00Z' }),
  ];
  const [firstEnd, secondStart, consent, secondEnd, thirdStart] = made;
  const tvAdsEachYear = (commands: LedgerCommand[]) => {
    const history = commands.reduce(append, append([], startRelationship({ occurredAt: '2020-01-01T00:00:00Z' })));
    return ['2023-06-02', '2024-06-01', '2025-06-01'].map((day) => {
      const at = instant(`${day}T00:00:00Z`);
      const { allowed, reason } = mayProcess(ledgerAsOf(history, { at }), catalogue, { purpose: TV_ADS, at });
      return `${day}: ${allowed ? 'allowed' : 'denied'} (${reason})`;
    });
  };

  it('ends the consent with the contract it was given under, in the order they were made', () =>
    expect(tvAdsEachYear(made)).toEqual(['2023-06-02: allowed (consent-active)', '2024-06-01: denied (no-relationship)', '2025-06-01: denied (consent-expired)']));

  it('answers the same when the start of that contract arrives after the next contract began', () =>
    expect(tvAdsEachYear([thirdStart, consent, secondStart, secondEnd, firstEnd])).toEqual(tvAdsEachYear(made)));

  it('answers the same when the end of that contract arrives after the next contract began', () =>
    expect(tvAdsEachYear([firstEnd, thirdStart, secondEnd, secondStart, consent])).toEqual(tvAdsEachYear(made)));
});

// Found in review (domain properties widened to prospects): the relationship standing was the
// latest event to arrive with a later instant, so a prospect start arriving before an earlier
// contract's start made a customer a prospect for good, and an end arriving before that start was
// taken for the prospect's and never ended the contract.
describe('prospects and contracts whose paperwork arrives out of order', () => {
  const prospect = (occurredAt: string) => startRelationship({ relationship: 'prospect', occurredAt });
  // Decided one after another as they arrive; a command refused records nothing.
  const recordAll = (commands: LedgerCommand[]) =>
    commands.reduce<RecordedLedgerEvent[]>((history, command) => {
      try {
        return append(history, command);
      } catch (error) {
        if (error instanceof LedgerRuleBroken) return history;
        throw error;
      }
    }, []);
  const answer = (commands: LedgerCommand[], purpose: string, at: string) => {
    const { allowed, reason } = mayProcess(ledgerAsOf(recordAll(commands), { at: instant(at) }), catalogue, { purpose, at: instant(at) });
    return `${allowed ? 'allowed' : 'denied'} (${reason})`;
  };

  it('keeps a customer a customer when a later prospect start arrived before the contract', () => {
    const contract = startRelationship({ occurredAt: '2024-03-01T00:00:00Z' });
    expect(answer([contract, prospect('2024-06-01T00:00:00Z')], 'service-provision', '2024-09-01T00:00:00Z')).toBe('allowed (contract)');
    expect(answer([prospect('2024-06-01T00:00:00Z'), contract], 'service-provision', '2024-09-01T00:00:00Z')).toBe('allowed (contract)');
  });

  it('ends the contract with an end that arrived before the contract start, after the prospect relationship it followed', () => {
    const contract = startRelationship({ occurredAt: '2024-03-01T00:00:00Z' });
    const end = endRelationship({ occurredAt: '2024-06-01T00:00:00Z' });
    const inOrder = answer([prospect('2024-01-01T00:00:00Z'), contract, end], 'billing-accounting', '2025-01-01T00:00:00Z');
    expect(inOrder).toBe('allowed (contract)');
    expect(answer([prospect('2024-01-01T00:00:00Z'), end, contract], 'billing-accounting', '2025-01-01T00:00:00Z')).toBe(inOrder);
    expect(answer([prospect('2024-01-01T00:00:00Z'), end, contract], 'service-provision', '2025-01-01T00:00:00Z')).toBe('denied (no-relationship)');
  });

  it('shows the prospect period before a contract whose start arrived first', () => {
    const commands = [startRelationship({ occurredAt: '2024-06-01T00:00:00Z' }), prospect('2024-01-01T00:00:00Z'), prospect('2023-06-01T00:00:00Z')];
    expect(answer(commands, 'contract-conclusion-identity-verification', '2023-09-01T00:00:00Z')).toBe(answer([commands[2], commands[0]], 'contract-conclusion-identity-verification', '2023-09-01T00:00:00Z'));
    expect(answer(commands, 'contract-conclusion-identity-verification', '2023-09-01T00:00:00Z')).toMatch(/^allowed/);
  });
});

// Found in review: billing stamps a switch (end of the residential contract, start of the business
// one) with one instant; replayed in arrival order, the end sent second ended the new contract.
describe('a contract ended and the next begun at the same instant', () => {
  const switchedAt = '2022-01-01T00:00:00Z';
  const end = endRelationship({ occurredAt: switchedAt });
  const business = startRelationship({ occurredAt: switchedAt, segment: 'business' });
  const history = (commands: LedgerCommand[]) => commands.reduce(append, append([], startRelationship({ occurredAt: '2020-01-01T00:00:00Z' })));

  it.each([
    ['end first', [end, business]],
    ['start first', [business, end]],
  ])('is a switch to the new contract whichever arrives first (%s)', (_, commands) => {
    const at = instant('2023-01-01T00:00:00Z');
    expect(mayProcess(ledgerAsOf(history(commands), { at }), catalogue, { purpose: 'service-provision', at })).toMatchObject({ allowed: true, reason: 'contract' });
    expect(ledgerAsOf(history(commands), { at }).relationships.get('proximus')).toMatchObject({ active: true, segment: 'business' });
  });
});
