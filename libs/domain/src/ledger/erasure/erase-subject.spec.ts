import { consentGiven, eraseSubject, given, relationshipStarted, subjectErased } from '../../testing';

const ERASED_AT = '2024-06-01T00:00:00Z';

describe('erasing a subject', () => {
  it('records the erasure of a subject the ledger knows', () => {
    given(relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' }))
      .when(eraseSubject({ occurredAt: ERASED_AT }))
      .then(subjectErased({ occurredAt: ERASED_AT }));
  });

  it('records it when all the ledger holds is a choice, with no relationship', () => {
    given(consentGiven({ purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], occurredAt: '2024-03-01T00:00:00Z' }))
      .when(eraseSubject({ occurredAt: ERASED_AT }))
      .then(subjectErased({ occurredAt: ERASED_AT }));
  });

  // Found in review: a mistyped id erased from a DPO's tool was blocked for good, so the customer
  // later given that id could record no choice.
  it('is refused for a subject the ledger never heard of, which it would block and erase nothing of', () => {
    given().when(eraseSubject({ occurredAt: ERASED_AT })).thenRejected('subject-unknown');
  });

  it('changes nothing when the subject is already erased', () => {
    given(relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' }), subjectErased({ occurredAt: ERASED_AT }))
      .when(eraseSubject({ occurredAt: '2024-07-01T00:00:00Z' }))
      .thenNothingHappened();
  });
});
