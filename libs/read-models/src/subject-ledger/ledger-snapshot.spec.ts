import fc from 'fast-check';
import { ledgerOf } from '@consent-ledger/domain';
import type { Sealed } from '@consent-ledger/domain';
import { consentGiven, histories, objectionRaised, recorded, subjectErased } from '@consent-ledger/domain/testing';
import { deserialiseLedger, serialiseLedger } from './ledger-snapshot';

describe('ledger snapshot', () => {
  it('gives back an equal ledger for any history', () =>
    fc.assert(
      fc.property(histories(), (events) => {
        const ledger = ledgerOf(recorded(events));
        expect(deserialiseLedger(serialiseLedger(ledger))).toEqual(ledger);
      }),
    ));

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
    expect(() => deserialiseLedger(JSON.stringify({ v: 2 }))).toThrow(/rebuild/);
  });
});
