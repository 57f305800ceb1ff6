import { catalogue, channelRestricted, consentGiven, consentWithdrawn, recorded, relationshipStarted, sourceOptedOut } from '../testing';
import { asOfAnswer } from './as-of-answer';
import { auditorTimeline } from './auditor-timeline';
import { instant } from '../testing';

const TV_ADS = 'targeted-tv-advertising-pickx';

/** A customer's withdrawal signed in a shop on 1 July, keyed in on 20 July; a TV-menu consent to profiling in between. */
const history = recorded([
  relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
  consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T09:00:00Z' }),
  consentGiven({ purpose: 'customer-profiling-consent-based', occurredAt: '2024-07-10T20:00:00Z', capture: { touchpoint: 'tv-menu' } }),
  consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T09:00:00Z', recordedAt: '2024-07-20T15:00:00Z', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'shop-3' } } }),
]);

describe('the auditor timeline', () => {
  const timeline = auditorTimeline(history, catalogue);

  it('lists the events in the order the ledger learned them, marking the one keyed in late', () => {
    expect(timeline.map((step) => [step.eventId, step.decision, step.late, step.outOfOrder])).toEqual([
      ['event-0', 'relationship-started', false, false],
      ['event-1', 'consent-given', false, false],
      ['event-2', 'consent-given', false, false],
      ['event-3', 'consent-withdrawn', true, true],
    ]);
    expect(timeline[3]).toMatchObject({ touchpoint: 'shop', method: 'recorded-by-agent', lateByMs: 19 * 86_400_000 + 6 * 3_600_000 });
  });

  it('shows what the system answered when the person withdrew, before the paperwork arrived', () =>
    expect(timeline[3].purposes[0]).toMatchObject({
      purpose: TV_ADS,
      asChosen: { allowed: false, reason: 'consent-withdrawn' },
      asKnown: { allowed: false, reason: 'consent-withdrawn' },
      whenExpressed: { asChosen: { allowed: false, reason: 'consent-withdrawn' }, asKnown: { allowed: true, reason: 'consent-active', basedOn: ['event-0', 'event-1'] } },
    }));

  // Found in review: both read "until withdrawn", while the decisions end them with the contract.
  it('says in plain words what each choice changed, and what ends a consent besides its withdrawal', () =>
    expect(timeline.slice(1).map((step) => step.change)).toEqual([
      'consent given to targeted-tv-advertising-pickx on tv-screen under notice 2024-02-27 (fr-BE), until withdrawn or until the customer contract it was given under ends',
      'consent given to customer-profiling-consent-based under notice 2024-02-27 (fr-BE), until withdrawn or until 5 years after the customer contract it was given under ends',
      'consent to targeted-tv-advertising-pickx withdrawn on every channel',
    ]));

  it('shows the purposes whose answer a relationship changed, since it names none itself', () => {
    const [started] = auditorTimeline(recorded([relationshipStarted()]), catalogue);
    const answers = new Map(started.purposes.map((purpose) => [purpose.purpose, purpose.asChosen]));
    expect(answers.get('direct-marketing-customers-phone-email')).toMatchObject({ allowed: true, reason: 'legitimate-interest' });
    // A purpose for customers only that rests on consent now waits for the consent, no longer for the relationship.
    expect(answers.get(TV_ADS)).toMatchObject({ allowed: false, reason: 'no-consent' });
  });
});

describe('an as-of answer', () => {
  it('says what was allowed and which recorded choices decided it', () =>
    expect(asOfAnswer(history, catalogue, { at: instant('2024-07-15T00:00:00Z'), purposes: [TV_ADS] }).purposes).toEqual([
      {
        purpose: TV_ADS,
        allowed: false,
        reason: 'consent-withdrawn',
        legalBasis: 'consent',
        validUntil: null,
        channels: [],
        sources: [],
        decidedBy: [
          { eventId: 'event-3', revision: 3, decision: 'consent-withdrawn', occurredAt: '2024-07-01T09:00:00.000Z', recordedAt: '2024-07-20T15:00:00.000Z', touchpoint: 'shop' },
        ],
      },
    ]));

  // Found in review: the CLI said ALLOWED for both, where the decision endpoint named the channels
  // and sources left, so an auditor could not see that SMS and TV viewing were already off limits.
  it('names the channels and the data sources the purpose could still use, as the decision endpoint does', () => {
    const restricted = recorded([
      relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' }),
      consentGiven({ purpose: 'customer-profiling-consent-based', occurredAt: '2024-02-01T00:00:00Z' }),
      channelRestricted({ channel: 'sms', occurredAt: '2024-03-01T00:00:00Z' }),
      sourceOptedOut({ source: 'tv-viewing', occurredAt: '2024-03-01T00:00:00Z' }),
    ]);
    const [marketing, profiling] = asOfAnswer(restricted, catalogue, {
      at: instant('2024-04-01T00:00:00Z'),
      purposes: ['direct-marketing-customers-phone-email', 'customer-profiling-consent-based'],
    }).purposes;
    expect(marketing).toMatchObject({ allowed: true, channels: ['phone', 'email', 'post'] });
    expect(marketing.sources).toBeUndefined();
    expect(profiling).toMatchObject({ allowed: true, sources: ['web-app-usage', 'communications-usage', 'device-data', 'loyalty-participation', 'survey-answers'] });
    expect(profiling.channels).toBeUndefined();
    // Asked about one channel or source, the answer is about it alone, without the list.
    const [sms] = asOfAnswer(restricted, catalogue, { at: instant('2024-04-01T00:00:00Z'), purposes: ['direct-marketing-customers-phone-email'], channel: 'sms' }).purposes;
    expect(sms).toMatchObject({ allowed: false, reason: 'channel-restricted' });
    expect(sms.channels).toBeUndefined();
  });

  it('answers as the system knew it, naming the late evidence it did not have yet', () => {
    const answer = asOfAnswer(history, catalogue, { at: instant('2024-07-15T00:00:00Z'), knownAt: instant('2024-07-15T00:00:00Z'), purposes: [TV_ADS] });
    expect(answer.purposes[0]).toMatchObject({ allowed: true, reason: 'consent-active' });
    expect(answer).toMatchObject({ eventsConsidered: 3, eventsRecordedLater: ['event-3'] });
  });
});
