import fc from 'fast-check';
import { mayProcess } from '../decisions/may-process';
import type { LedgerEvent } from '../ledger/events';
import { ledgerOf } from '../ledger/ledger';
import { addDuration } from '../time';
import {
  catalogue,
  consentGiven,
  consentWithdrawn,
  histories,
  instant,
  objectionRaised,
  objectionWithdrawn,
  recorded,
  relationshipEnded,
  relationshipStarted,
  SAMPLE_PURPOSES,
  subjectErased,
} from '../testing';
import { requestCompleted, requestReceived, requestRefused } from '../rights/testing/given-request';
import { rightsRequestOf } from '../rights/rights-request';
import { proofRetentionOf } from './proof-retention';

const TV_ADS = 'targeted-tv-advertising-pickx';
const PROSPECTING = 'direct-marketing-prospects-phone-email';

const retentionOf = (events: LedgerEvent[], now = '2040-01-01T00:00:00Z') => proofRetentionOf(recorded(events), catalogue, instant(now), []);

describe('proof retention of a subject', () => {
  it('keeps the proof of a withdrawn consent for five years after the withdrawal', () => {
    const events = [consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), consentWithdrawn({ purpose: TV_ADS, occurredAt: '2025-03-01T10:00:00Z' })];
    expect(retentionOf(events).removableFrom).toBe('2030-03-01T10:00:00.000Z');
    expect(retentionOf(events, '2030-03-01T09:59:59.999Z').isRemovable).toBe(false);
    expect(retentionOf(events, '2030-03-01T10:00:00.000Z').isRemovable).toBe(true);
  });

  it("keeps a prospect's consent for its three years of validity plus five years, as the statement says", () =>
    expect(retentionOf([consentGiven({ purpose: PROSPECTING, channels: ['email'], expiresAt: instant('2027-05-01T09:00:00Z') })]).removableFrom).toBe(
      '2032-05-01T09:00:00.000Z',
    ));

  it('never removes a consent still in force without an end', () => {
    const retention = retentionOf([consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] })]);
    expect(retention).toMatchObject({ removableFrom: null, isRemovable: false });
    expect(retention.holds).toContainEqual(expect.objectContaining({ reason: 'consent-in-force', purpose: TV_ADS, until: null }));
  });

  // Found in review: such a consent showed as in force for ever, so the record was never removable.
  it('keeps the proof of a consent to a customer-only purpose for five years after the contract it was given under ended', () => {
    const retention = retentionOf([
      relationshipStarted({ occurredAt: '1998-01-01T00:00:00Z' }),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '1999-01-01T00:00:00Z' }),
      relationshipEnded({ occurredAt: '2001-01-01T00:00:00Z' }),
    ]);
    expect(retention.holds).toContainEqual(expect.objectContaining({ reason: 'consent-proof', purpose: TV_ADS, until: '2006-01-01T00:00:00.000Z' }));
    expect(retention.removableFrom).toBe('2016-01-01T00:00:00.000Z');
  });

  // Found in review: recorded for the default brand, a Scarlet customer's consent was in force for ever.
  it('keeps the proof of such a consent recorded for another brand five years after the contract it was given under ended', () =>
    expect(
      retentionOf([
        relationshipStarted({ brand: 'scarlet', occurredAt: '1998-01-01T00:00:00Z' }),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '1999-01-01T00:00:00Z' }),
        relationshipEnded({ brand: 'scarlet', occurredAt: '2001-01-01T00:00:00Z' }),
      ]).holds,
    ).toContainEqual(expect.objectContaining({ reason: 'consent-proof', purpose: TV_ADS, until: '2006-01-01T00:00:00.000Z' })));

  it('counts the proof of a withdrawal keyed in late from when the person withdrew, and keeps the record five years after it was recorded', () => {
    const { holds, removableFrom } = retentionOf([
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T09:00:00Z', recordedAt: '2024-07-20T15:00:00Z' }),
    ]);
    expect(holds).toContainEqual(expect.objectContaining({ reason: 'consent-proof', purpose: TV_ADS, until: '2029-07-01T09:00:00.000Z' }));
    expect(removableFrom).toBe('2029-07-20T15:00:00.000Z');
  });

  // Found in security review: a key that may record commands sent a contract's end dated in 2006,
  // and the next run removed the customer's whole record and destroyed its key.
  it('keeps a record five years after its last recording, however far back its choices are dated', () => {
    const recordedToday = '2026-11-29T10:00:00Z';
    const { removableFrom, isRemovable } = retentionOf(
      [
        relationshipStarted({ occurredAt: '2005-03-01T10:00:00Z', recordedAt: '2005-03-01T10:00:00Z' }),
        relationshipEnded({ occurredAt: '2006-03-02T10:00:00Z', recordedAt: recordedToday }),
      ],
      '2026-11-30T00:00:00Z',
    );
    expect([removableFrom, isRemovable]).toEqual(['2031-11-29T10:00:00.000Z', false]);
  });

  it('keeps everything while the subject is a customer, even after every consent ended', () => {
    const retention = retentionOf([
      relationshipStarted(),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-06-01T09:00:00Z' }),
    ]);
    expect(retention.removableFrom).toBeNull();
    expect(retention.holds).toContainEqual(expect.objectContaining({ reason: 'relationship-active', brand: 'proximus' }));
  });

  it("keeps a former customer's record until the longest former-customer window closed, plus five years", () =>
    // Archiving for legal defence reaches former customers for ten years after the contract ends.
    expect(retentionOf([relationshipStarted(), relationshipEnded({ occurredAt: '2025-01-31T12:00:00Z' })]).removableFrom).toBe(
      '2040-01-31T12:00:00.000Z',
    ));

  // Found in review: the prospect relationship replaced the contract's end, and the record went
  // five years after the prospect relationship, nine years before the legal-defence archive closed.
  it("keeps a former customer's record recorded again as a prospect until the contract's windows closed, plus five years", () =>
    expect(
      retentionOf([
        relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2025-01-01T00:00:00Z' }),
        relationshipStarted({ relationship: 'prospect', occurredAt: '2026-06-01T00:00:00Z' }),
        relationshipEnded({ relationship: 'prospect', occurredAt: '2026-07-01T00:00:00Z' }),
      ]).removableFrom,
    ).toBe('2040-01-01T00:00:00.000Z'));

  it("keeps the billing and legal-claims windows of a former customer's contract after the erasure of the prospect they became", () =>
    expect(
      retentionOf([
        relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2025-01-01T00:00:00Z' }),
        relationshipStarted({ relationship: 'prospect', occurredAt: '2026-06-01T00:00:00Z' }),
        subjectErased({ occurredAt: '2026-07-01T00:00:00Z' }),
      ]).removableFrom,
    ).toBe('2040-01-01T00:00:00.000Z'));

  it("lets a prospect's record go five years after the prospect relationship ended", () =>
    expect(
      retentionOf([
        relationshipStarted({ relationship: 'prospect' }),
        relationshipEnded({ relationship: 'prospect', occurredAt: '2025-01-31T12:00:00Z' }),
      ]).removableFrom,
    ).toBe('2030-01-31T12:00:00.000Z'));

  it('keeps a standing objection of someone no relationship bounds, since removing it would lift it', () => {
    const retention = retentionOf([objectionRaised({ target: 'direct-marketing' })]);
    expect(retention.removableFrom).toBeNull();
    expect(retention.holds).toContainEqual(expect.objectContaining({ reason: 'standing-choice', until: null }));
  });

  it("ends every effect of a prospect at the erasure, so the record goes five years after it", () => {
    const retention = retentionOf([
      relationshipStarted({ relationship: 'prospect' }),
      consentGiven({ purpose: PROSPECTING, channels: ['email'] }),
      objectionRaised({ target: 'direct-marketing' }),
      subjectErased({ occurredAt: '2026-02-01T08:00:00Z' }),
    ]);
    expect(retention.removableFrom).toBe('2031-02-01T08:00:00.000Z');
    expect(retention.holds.map((hold) => hold.reason).sort()).toEqual(
      ['consent-proof', 'erasure-proof', 'last-choice', 'relationship-proof', 'standing-choice'].sort(),
    );
  });

  // Found in review: an erased customer's record went five years after the erasure, while billing
  // records (kept 7 years for tax) and the legal-defence archive (10 years) still rested on it.
  it("keeps an erased customer's record while the contract runs, then until the billing and legal-claims windows close, plus five years", () => {
    const erased = [relationshipStarted(), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), subjectErased({ occurredAt: '2026-02-01T08:00:00Z' })];
    expect(retentionOf(erased).holds).toContainEqual(expect.objectContaining({ reason: 'relationship-active', until: null }));
    expect(retentionOf([...erased, relationshipEnded({ occurredAt: '2026-06-30T00:00:00Z' })]).removableFrom).toBe('2041-06-30T00:00:00.000Z');
  });

  it('keeps any choice at least five years after it was expressed', () =>
    expect(
      retentionOf([
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T09:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-06-01T09:00:00Z' }),
        objectionRaised({ target: TV_ADS, occurredAt: '2024-07-01T09:00:00Z' }),
        objectionWithdrawn({ target: TV_ADS, occurredAt: '2024-08-01T09:00:00Z' }),
      ]).removableFrom,
    ).toBe('2029-08-01T09:00:00.000Z'));

  it('has nothing to remove for a subject without records', () => expect(retentionOf([])).toEqual({ removableFrom: null, isRemovable: false, holds: [] }));
});

describe('proof retention of a subject who made a rights request', () => {
  // A consent withdrawn in 2012: its proof was due to go in 2017.
  const longEnded = recorded([
    consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2010-03-01T10:00:00Z' }),
    consentWithdrawn({ purpose: TV_ADS, occurredAt: '2012-03-01T10:00:00Z' }),
  ]);
  const received = requestReceived();
  const now = instant('2024-03-10T00:00:00Z');

  it('keeps the whole record while a request about the subject is open, however long ago its retention ended', () => {
    const retention = proofRetentionOf(longEnded, catalogue, now, [rightsRequestOf([received])]);
    expect(retention).toMatchObject({ removableFrom: null, isRemovable: false });
    expect(retention.holds).toContainEqual({ reason: 'rights-request-open', until: null, requestId: received.data.requestId, basedOn: [] });
  });

  it('lets the record go once the request was answered', () =>
    expect(proofRetentionOf(longEnded, catalogue, now, [rightsRequestOf([received, requestCompleted([received])])])).toMatchObject({
      removableFrom: '2017-03-01T10:00:00.000Z',
      isRemovable: true,
    }));

  it('lets the record go once the request was refused', () =>
    expect(proofRetentionOf(longEnded, catalogue, now, [rightsRequestOf([received, requestRefused([received])])]).isRemovable).toBe(true));
});

describe('proof retention, for any history', () => {
  it('never lets a record go while a consent it proves still holds, nor within five years of any choice', () =>
    fc.assert(
      fc.property(histories(), (events) => {
        const history = recorded(events);
        const { removableFrom } = proofRetentionOf(history, catalogue, instant('2100-01-01T00:00:00Z'), []);
        if (removableFrom === null) return;
        for (const event of history) expect(removableFrom >= addDuration(event.data.capture.occurredAt, catalogue.definition.proofRetention)).toBe(true);
        const ledger = ledgerOf(history);
        for (const purpose of SAMPLE_PURPOSES) expect(mayProcess(ledger, catalogue, { purpose, at: removableFrom }).reason).not.toBe('consent-active');
      }),
    ));
});
