import type { LedgerEvent, RecordedLedgerEvent } from '../ledger/events';
import {
  catalogue,
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
  consentWithdrawn,
  instant,
  objectionRaised,
  objectionReviewed,
  objectionWithdrawn,
  recorded,
  relationshipEnded,
  relationshipStarted,
  sealed,
  sourceOptedIn,
  sourceOptedOut,
  subjectErased,
} from '../testing';
import { consentReceiptOf, type ProvenLedgerEvent } from './consent-receipt';

const TV_ADS = 'targeted-tv-advertising-pickx';
const PROSPECTING = 'direct-marketing-prospects-phone-email';

/** Gives recorded events the chain link a store would report. */
const proven = (event: RecordedLedgerEvent): ProvenLedgerEvent => ({
  ...event,
  chain: {
    streamName: `consent-ledger-${event.data.subjectId}`,
    position: String(100 + event.revision),
    hash: `hash-${event.revision}`,
    previousHash: event.revision === 0 ? '0'.repeat(64) : `hash-${event.revision - 1}`,
    storedAt: event.data.capture.recordedAt,
  },
});

const receiptOf = (events: LedgerEvent[], index: number) => {
  const history = recorded(events);
  return consentReceiptOf(proven(history[index]), history, catalogue);
};

describe('a consent receipt', () => {
  it('carries every field of the Kantara and ISO 27560 records for a consent given', () =>
    expect(
      receiptOf([consentGiven({ purpose: PROSPECTING, channels: ['email'], expiresAt: instant('2027-05-01T09:00:00Z'), capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'hostess-12' } } })], 0),
    ).toEqual({
      version: 'KI-CR-v1.1.0',
      schemaVersion: '1.1',
      recordId: 'event-0',
      eventType: 'ConsentGiven',
      eventSchemaVersion: 1,
      subjectId: 'subject-1',
      brand: 'proximus',
      jurisdiction: 'BE',
      controller: { ...catalogue.definition.controller, role: 'controller' },
      jointControllers: [],
      notice: { version: '2024-02-27', language: 'fr-BE' },
      catalogueVersion: catalogue.definition.catalogueVersion,
      termsFrom: 'same-notice-catalogue',
      decision: 'consent-given',
      method: 'recorded-by-agent',
      touchpoint: 'event',
      actor: { kind: 'agent', id: 'hostess-12' },
      occurredAt: '2024-05-01T09:00:00.000Z',
      recordedAt: '2024-05-01T09:00:00.000Z',
      channels: ['email'],
      purposes: [
        {
          id: PROSPECTING,
          name: catalogue.purposes.get(PROSPECTING)!.name,
          description: catalogue.purposes.get(PROSPECTING)!.description,
          section: catalogue.purposes.get(PROSPECTING)!.section,
          category: 'direct-marketing',
          legalBasis: 'consent',
          jointControllers: [],
          recipients: catalogue.purposes.get(PROSPECTING)!.recipients,
          retention: { data: catalogue.purposes.get(PROSPECTING)!.retention, proof: 'P5Y', proofKeptUntil: '2032-05-01T09:00:00.000Z' },
          withdrawal: catalogue.purposes.get(PROSPECTING)!.withdrawal,
        },
      ],
      validity: { from: '2024-05-01T09:00:00.000Z', until: '2027-05-01T09:00:00.000Z', duration: 'P3Y' },
      retention: { recordRemovableFrom: '2032-05-01T09:00:00.000Z' },
      sealedEvidence: [],
      integrity: {
        algorithm: 'sha256-canonical-json-chain',
        streamName: 'consent-ledger-subject-1',
        revision: 0,
        position: '100',
        hash: 'hash-0',
        previousHash: '0'.repeat(64),
        storedAt: '2024-05-01T09:00:00.000Z',
      },
    }));

  it('names the joint controller of a purpose decided together with a partner', () =>
    expect(receiptOf([consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] })], 0).jointControllers).toEqual([
      { ...catalogue.definition.jointControllers.find((party) => party.id === 'dpg-media')!, role: 'joint-controller' },
    ]));

  it('tells a renewal from a first consent', () =>
    expect(
      receiptOf(
        [
          consentGiven({ purpose: PROSPECTING, channels: ['email'], expiresAt: instant('2027-05-01T09:00:00Z') }),
          consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: '2026-05-01T09:00:00Z', expiresAt: instant('2029-05-01T09:00:00Z') }),
        ],
        1,
      ).decision,
    ).toBe('consent-renewed'));

  it('tells a consent given under a new contract from a renewal, when the earlier one ended with its contract', () =>
    expect(
      receiptOf(
        [
          relationshipStarted({ occurredAt: '2018-01-01T00:00:00Z' }),
          consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
          relationshipEnded({ occurredAt: '2019-01-01T00:00:00Z' }),
          relationshipStarted({ occurredAt: '2026-01-01T00:00:00Z' }),
          consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-01-15T00:00:00Z' }),
        ],
        4,
      ).decision,
    ).toBe('consent-given'));

  it('ends a consent to a customer-only purpose with the contract it was given under, and keeps its proof five years after that', () => {
    const receipt = receiptOf(
      [
        relationshipStarted({ occurredAt: '2018-01-01T00:00:00Z' }),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2019-01-01T00:00:00Z' }),
      ],
      1,
    );
    expect(receipt.validity).toMatchObject({ until: '2019-01-01T00:00:00.000Z' });
    expect(receipt.purposes[0].retention.proofKeptUntil).toBe('2024-01-01T00:00:00.000Z');
  });

  it('keeps the proof of a consent from its own end, not from the end of a later consent to the purpose', () => {
    const receipt = receiptOf(
      [
        relationshipStarted({ occurredAt: '2018-01-01T00:00:00Z' }),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2019-01-01T00:00:00Z' }),
        relationshipStarted({ brand: 'scarlet', occurredAt: '2019-02-01T00:00:00Z' }),
        consentGiven({ purpose: TV_ADS, brand: 'scarlet', channels: ['tv-screen'], occurredAt: '2019-03-01T00:00:00Z' }),
      ],
      1,
    );
    expect([receipt.validity.until, receipt.purposes[0].retention.proofKeptUntil]).toEqual(['2019-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
  });

  it('ends such a consent recorded for another brand with the contract it was given under', () =>
    expect(
      receiptOf(
        [
          relationshipStarted({ brand: 'scarlet', occurredAt: '2018-01-01T00:00:00Z' }),
          consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
          relationshipEnded({ brand: 'scarlet', occurredAt: '2019-01-01T00:00:00Z' }),
        ],
        1,
      ).validity,
    ).toMatchObject({ until: '2019-01-01T00:00:00.000Z' }));

  it('says which later choice ended a consent, and keeps its proof five years after that', () => {
    const events = [consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-09-01T09:00:00Z' })];
    const receipt = receiptOf(events, 0);
    expect(receipt.validity.endedBy).toEqual({ eventId: 'event-1', decision: 'consent-withdrawn', occurredAt: '2024-09-01T09:00:00.000Z' });
    expect(receipt.purposes[0].retention.proofKeptUntil).toBe('2029-09-01T09:00:00.000Z');
    expect(receiptOf(events, 1)).toMatchObject({ decision: 'consent-withdrawn', validity: { until: '2024-09-01T09:00:00.000Z' } });
  });

  it('ends the consent at the erasure when the subject was erased while it held', () => {
    const receipt = receiptOf([consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), subjectErased({ occurredAt: '2025-01-01T00:00:00Z' })], 0);
    expect(receipt.validity.endedBy?.decision).toBe('subject-erased');
    expect(receipt.purposes[0].retention.proofKeptUntil).toBe('2030-01-01T00:00:00.000Z');
  });

  // Found in review: only a consent's receipt named what ended it, so an auditor reading an
  // objection's receipt could not tell it no longer stood.
  it('says which later choice undid an objection, a restriction or an opt-out, at the same scope only', () => {
    const at = (month: string) => `2024-${month}-01T09:00:00Z`;
    const objection = [
      objectionRaised({ target: 'direct-marketing', occurredAt: at('01') }),
      objectionWithdrawn({ target: 'newsletter-customers', occurredAt: at('02') }),
      objectionWithdrawn({ target: 'direct-marketing', occurredAt: at('03') }),
    ];
    expect(receiptOf(objection, 0).validity).toMatchObject({ until: null, endedBy: { eventId: 'event-2', decision: 'objection-withdrawn', occurredAt: '2024-03-01T09:00:00.000Z' } });

    const reviewed = [objectionRaised({ target: 'security-cctv', needsReview: true, occurredAt: at('01') }), objectionReviewed({ target: 'security-cctv', outcome: 'upheld', occurredAt: at('02') })];
    expect(receiptOf(reviewed, 0).validity).not.toHaveProperty('endedBy');
    const rejected = [reviewed[0], objectionReviewed({ target: 'security-cctv', outcome: 'rejected', occurredAt: at('02') })];
    expect(receiptOf(rejected, 0).validity.endedBy).toMatchObject({ eventId: 'event-1', decision: 'objection-rejected' });

    const restriction = [
      channelRestricted({ channel: 'sms', purpose: 'newsletter-customers', occurredAt: at('01') }),
      channelRestrictionLifted({ channel: 'sms', occurredAt: at('02') }),
      channelRestrictionLifted({ channel: 'sms', purpose: 'newsletter-customers', occurredAt: at('03') }),
    ];
    expect(receiptOf(restriction, 0).validity.endedBy).toMatchObject({ eventId: 'event-2', decision: 'channel-restriction-lifted' });
    expect(receiptOf(restriction.slice(0, 2), 0).validity).not.toHaveProperty('endedBy');

    const optOut = [sourceOptedOut({ source: 'tv-viewing', occurredAt: at('02') }), sourceOptedIn({ source: 'tv-viewing', occurredAt: at('01') })];
    expect(receiptOf(optOut, 0).validity).not.toHaveProperty('endedBy');
    expect(receiptOf([optOut[0], sourceOptedIn({ source: 'tv-viewing', occurredAt: at('03') })], 0).validity.endedBy).toMatchObject({ decision: 'source-opted-in' });
  });

  // Found in review: a general SMS restriction's receipt listed direct carrier billing, whose SMS
  // the decisions go on allowing (only a restriction naming it stops it): the proof claimed more
  // than was kept.
  it('lists only the purposes a restriction of a channel for everything stops', () => {
    const receipt = receiptOf([channelRestricted({ channel: 'sms' })], 0);
    const listed = receipt.purposes.map((purpose) => purpose.id);
    expect(listed).toContain('direct-marketing-customers-phone-email');
    expect(listed).not.toContain('direct-carrier-billing');
    expect(receiptOf([channelRestricted({ channel: 'sms', purpose: 'direct-carrier-billing' })], 0).purposes.map((purpose) => purpose.id)).toEqual(['direct-carrier-billing']);
  });

  it('lists every purpose an objection to a group reaches', () => {
    const receipt = receiptOf([objectionRaised({ target: 'direct-marketing' })], 0);
    expect(receipt).toMatchObject({ decision: 'objection-raised', target: 'direct-marketing' });
    expect(receipt.purposes.map((purpose) => purpose.id)).toEqual(catalogue.groups.get('direct-marketing')!.members);
  });

  it('says sealed personal data exists without ever showing it', () => {
    const receipt = receiptOf(
      [consentGiven({ purpose: PROSPECTING, channels: ['email'], personalData: sealed('jane@example.org'), capture: { evidenceRef: sealed('call-0042') } })],
      0,
    );
    expect(receipt.sealedEvidence).toEqual(['evidenceRef', 'personalData']);
    expect(JSON.stringify(receipt)).not.toContain('sealed:');
  });

  it('tells a partner import from a choice the person made', () =>
    expect(receiptOf([consentGiven({ purpose: PROSPECTING, channels: ['email'], capture: { touchpoint: 'partner-import', actor: { kind: 'system', id: 'usmile-batch' } } })], 0).method).toBe(
      'imported-from-partner',
    ));
});
