import fc from 'fast-check';
import { type Instant, ledgerOf, mayProcess } from '@consent-ledger/domain';
import type { Sealed } from '@consent-ledger/domain';
import { catalogue, consentGiven, histories, objectionRaised, recorded, subjectErased } from '@consent-ledger/domain/testing';
import { deserialiseLedger, LedgerSnapshotFormatUnknown, serialiseLedger } from './ledger-snapshot';

describe('ledger snapshot', () => {
  it('gives back an equal ledger for any history', () =>
    fc.assert(
      fc.property(histories(), (events) => {
        const ledger = ledgerOf(recorded(events));
        expect(deserialiseLedger(serialiseLedger(ledger))).toEqual(ledger);
      }),
    ));

  // Found in review: a grant covering several channels came back as one copy per channel, and a
  // decision that told grants apart by identity cited the same consent once per channel.
  it('answers every decision as the ledger it was made from does', () =>
    fc.assert(
      fc.property(histories(), (events) => {
        const ledger = ledgerOf(recorded(events));
        const readBack = deserialiseLedger(serialiseLedger(ledger));
        for (const purpose of catalogue.purposes.keys()) {
          const question = { purpose, at: '2025-06-01T00:00:00.000Z' as Instant };
          expect(mayProcess(readBack, catalogue, question)).toEqual(mayProcess(ledger, catalogue, question));
        }
      }),
      { numRuns: 50 },
    ));

  it('cites a consent given for several channels once, as the ledger it was made from does', () => {
    const ledger = ledgerOf(recorded([consentGiven({ purpose: 'direct-marketing-prospects-phone-email', channels: ['email', 'sms'] })]));
    const question = { purpose: 'direct-marketing-prospects-phone-email', at: '2025-06-01T00:00:00.000Z' as Instant };
    expect(mayProcess(deserialiseLedger(serialiseLedger(ledger)), catalogue, question)).toEqual(mayProcess(ledger, catalogue, question));
  });

  it('keeps the erasure of an erased subject', () => {
    const ledger = ledgerOf(recorded([subjectErased()]));
    expect(deserialiseLedger(serialiseLedger(ledger)).erasure).toEqual(ledger.erasure);
  });

  it('holds none of the personal data the events carry sealed', () => {
    const sealed = 'sealed:v1:key-1:Y29udGFjdA' as Sealed;
    const ledger = ledgerOf(
      recorded([
        consentGiven({ purpose: 'prospect-contact-collection-events', personalData: sealed, capture: { evidenceRef: sealed } }),
        objectionRaised({ target: 'myproximus-app-usage-analytics', needsReview: true, justification: sealed }),
      ]),
    );
    expect(serialiseLedger(ledger)).not.toContain('sealed:');
  });

  it('refuses a snapshot format it does not know rather than guessing', () => {
    // 1: relationships kept only their contracts' starts and ends, as `contractHistory`.
    expect(() => deserialiseLedger(JSON.stringify({ v: 1 }))).toThrow(LedgerSnapshotFormatUnknown);
    // 2: objections kept no history, so their reviews could not be replayed.
    expect(() => deserialiseLedger(JSON.stringify({ v: 2 }))).toThrow(LedgerSnapshotFormatUnknown);
    expect(() => deserialiseLedger(JSON.stringify({ v: 4 }))).toThrow(/another version's, or must be rebuilt/);
  });
});
