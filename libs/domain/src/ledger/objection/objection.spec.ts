import {
  given,
  objectionRaised,
  objectionReviewed,
  objectionWithdrawn,
  objectTo,
  relationshipStarted,
  reviewObjection,
  sealed,
  subjectErased,
  withdrawObjection,
} from '../../testing';
import type { LedgerEvent } from '../events';

const RECORDING = 'customer-service-recording-quality-control';
const WHY = sealed('I never agreed to be recorded');

describe('objecting to processing', () => {
  it('records an objection to direct marketing without asking why', () =>
    given(relationshipStarted())
      .when(objectTo({ purpose: 'direct-marketing' }))
      .then(objectionRaised({ target: 'direct-marketing', needsReview: false })));

  it('records a motivated objection with its justification, to be reviewed', () =>
    given(relationshipStarted())
      .when(objectTo({ purpose: RECORDING, justification: WHY }))
      .then(objectionRaised({ target: RECORDING, needsReview: true, justification: WHY })));

  it('refuses a motivated objection that gives no justification', () =>
    given(relationshipStarted()).when(objectTo({ purpose: RECORDING })).thenRejected('justification-required'));

  it('refuses an objection to processing required by law', () =>
    given(relationshipStarted())
      .when(objectTo({ purpose: 'best-tariff-plan-consumption-profiling' }))
      .thenRejected('legal-obligation-cannot-be-objected-to'));

  it('refuses an objection to the processing a contract needs', () =>
    given(relationshipStarted()).when(objectTo({ purpose: 'service-provision' })).thenRejected('objection-not-possible'));

  it('refuses an objection to something that is neither a purpose nor a group', () =>
    given(relationshipStarted()).when(objectTo({ purpose: 'everything' })).thenRejected('unknown-purpose'));

  it('records nothing new when the same objection stands from the same instant or later', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .when(objectTo({ purpose: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .thenNothingHappened());

  // Found in review: the call recording of an objection first keyed in without it was dropped as a
  // repeat, so the proof stayed the weaker one while api.md promised it was recorded.
  it('records the same objection at the same instant again when it brings evidence the standing one lacked, and only once', () => {
    const june = '2024-06-01T09:00:00Z';
    const recording = { evidenceRef: sealed('call-0042') };
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing', occurredAt: june }))
      .when(objectTo({ purpose: 'direct-marketing', occurredAt: june, capture: recording }))
      .then(objectionRaised({ target: 'direct-marketing', needsReview: false, occurredAt: june, capture: recording }));
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing', occurredAt: june, capture: recording }))
      .when(objectTo({ purpose: 'direct-marketing', occurredAt: june, capture: { evidenceRef: sealed('call-0043') } }))
      .thenNothingHappened();
  });

  it('records the same objection made again later, as the person\'s latest word', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }))
      .when(objectTo({ purpose: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .then(objectionRaised({ target: 'direct-marketing', needsReview: false, occurredAt: '2024-06-01T09:00:00Z' })));
});

describe('withdrawing an objection', () => {
  it('withdraws an objection in force', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }))
      .when(withdrawObjection({ purpose: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .then(objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' })));

  it('records nothing when the objection was already withdrawn at that instant', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }), objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .when(withdrawObjection({ purpose: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .thenNothingHappened());

  it('records a withdrawal made before a later one that arrived first, as the state of the days between', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }), objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .when(withdrawObjection({ purpose: 'direct-marketing', occurredAt: '2024-05-15T09:00:00Z' }))
      .then(objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-05-15T09:00:00Z' })));

  // Found in review: the March objection, arriving after the April one, was dropped, and processing
  // in the days between read as lawful.
  it('records an objection made before a later one that arrived first', () => {
    const march = given(relationshipStarted(), objectionRaised({ target: 'direct-marketing', occurredAt: '2025-04-01T00:00:00Z' }));
    march.when(objectTo({ purpose: 'direct-marketing', occurredAt: '2025-03-01T00:00:00Z' })).then(objectionRaised({ target: 'direct-marketing', occurredAt: '2025-03-01T00:00:00Z' }));
  });

  it('records a withdrawal when there is no objection yet: one made earlier may still arrive', () =>
    given(relationshipStarted()).when(withdrawObjection({ purpose: 'direct-marketing' })).then(objectionWithdrawn({ target: 'direct-marketing' })));

  // "Already in force" would tell the channel system newsletters may go out again; they may not.
  it('refuses to withdraw an objection to one purpose when the objection in force is to its whole group', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }))
      .when(withdrawObjection({ purpose: 'newsletter-customers' }))
      .thenRejected('in-force-at-another-scope'));

  it('refuses to withdraw an objection to a group when only objections to some of its purposes are in force', () =>
    given(relationshipStarted(), objectionRaised({ target: 'newsletter-customers' }))
      .when(withdrawObjection({ purpose: 'direct-marketing' }))
      .thenRejected('in-force-at-another-scope'));

});

describe('reviewing a motivated objection', () => {
  it('records the review outcome of a pending objection', () =>
    given(relationshipStarted(), objectionRaised({ target: RECORDING, needsReview: true, justification: WHY }))
      .when(reviewObjection({ purpose: RECORDING, outcome: 'upheld', occurredAt: '2024-05-10T09:00:00Z' }))
      .then(objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-10T09:00:00Z' })));

  // Found in review: the review was recorded for a subject erased while the objection waited.
  it('refuses a review once the subject was erased', () =>
    given(relationshipStarted(), objectionRaised({ target: RECORDING, needsReview: true, justification: WHY }), subjectErased())
      .when(reviewObjection({ purpose: RECORDING, outcome: 'upheld' }))
      .thenRejected('subject-erased'));

  it('refuses a review when no objection was raised', () =>
    given(relationshipStarted()).when(reviewObjection({ purpose: RECORDING, outcome: 'rejected' })).thenRejected('no-objection-pending-review'));

  it('refuses to review an objection that needs no justification', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }))
      .when(reviewObjection({ purpose: 'direct-marketing', outcome: 'rejected' }))
      .thenRejected('no-objection-pending-review'));

  it('records nothing for the same review delivered again', () =>
    given(
      relationshipStarted(),
      objectionRaised({ target: RECORDING, needsReview: true, justification: WHY }),
      objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T09:00:00Z' }),
    )
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T09:00:00Z' }))
      .thenNothingHappened());

  // Found in review: the second review, arriving before the objection it answered, was taken for
  // a repeat of the first and dropped; the objection then waited for a review for ever.
  it('records the same outcome given again later, which may answer an objection dated between that has not arrived yet', () => {
    const first = [
      relationshipStarted(),
      objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2024-05-01T09:00:00Z' }),
      objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-10T09:00:00Z' }),
    ];
    const second = reviewObjection({ purpose: RECORDING, outcome: 'upheld', occurredAt: '2024-07-10T09:00:00Z' });
    given(...first).when(second).then(objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-07-10T09:00:00Z' }));
    const objectedBetween = objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2024-06-01T09:00:00Z' });
    expect(
      given(...first, objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-07-10T09:00:00Z' }), objectedBetween).mayProcess({ purpose: RECORDING, at: '2024-08-01T09:00:00Z' }),
    ).toMatchObject({ allowed: false, reason: 'objected' });
  });

  // Found in review: the same objection, made before the review but arriving after it, was
  // recorded as the person's latest word and wiped the review: processing stopped again.
  it('keeps the review when the same objection is recorded again later', () => {
    const history = [
      relationshipStarted(),
      objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2025-01-01T00:00:00Z' }),
      objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2025-03-01T00:00:00Z' }),
      objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2025-02-01T00:00:00Z' }),
    ];
    expect(given(...history).mayProcess({ purpose: RECORDING, at: '2025-04-01T00:00:00Z' })).toMatchObject({ allowed: true });
  });
});

// GDPR art. 21(1): the controller's assessment is its answer to the objection. Another answer
// comes from another objection of the person, not from reviewing the same one again.
describe('an objection already reviewed', () => {
  const raised = objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2024-05-01T09:00:00Z' });
  const upheld = objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-10T09:00:00Z' });
  const raisedAgain = objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2024-06-01T09:00:00Z' });

  it('refuses a second review with another outcome', () =>
    given(relationshipStarted(), raised, upheld)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-11T09:00:00Z' }))
      .thenRejected('objection-already-reviewed'));

  // Recorded, it would change nothing now but rewrite the past: as of 8 May the objection would
  // read as rejected, and processing as allowed, although the only answer given was upheld.
  it('refuses another outcome dated before the standing review, arriving after it', () =>
    given(relationshipStarted(), raised, upheld)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-08T09:00:00Z' }))
      .thenRejected('objection-already-reviewed'));

  // As of the days between, the objection had its answer: an auditor asking about them must find it.
  it('records the same outcome dated before the standing review', () =>
    given(relationshipStarted(), raised, upheld)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'upheld', occurredAt: '2024-05-08T09:00:00Z' }))
      .then(objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-08T09:00:00Z' })));

  it('waits for a new review when the person objects again after the review', () =>
    expect(given(relationshipStarted(), raised, upheld, raisedAgain).mayProcess({ purpose: RECORDING, at: '2024-06-02T09:00:00Z' })).toMatchObject({
      allowed: false,
      reason: 'objection-pending-review',
    }));

  it('takes a review with another outcome of the objection made again after the review', () =>
    given(relationshipStarted(), raised, upheld, raisedAgain)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-06-05T09:00:00Z' }))
      .then(objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2024-06-05T09:00:00Z' })));

  it('takes a review of the objection raised again after it was withdrawn', () =>
    given(
      relationshipStarted(),
      raised,
      upheld,
      objectionWithdrawn({ target: RECORDING, occurredAt: '2024-05-20T09:00:00Z' }),
      raisedAgain,
    )
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-06-05T09:00:00Z' }))
      .then(objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2024-06-05T09:00:00Z' })));

  // Dated 20 May, it answers the objection of 1 May, already upheld; the person's objection of
  // 1 June is another, which it cannot have answered.
  it('refuses another outcome dated before the objection made again, as a second answer to the first', () =>
    given(relationshipStarted(), raised, upheld, raisedAgain)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-20T09:00:00Z' }))
      .thenRejected('objection-already-reviewed'));

  it('leaves the objection made again awaiting its own review when a review of the first arrives after it', () => {
    const again = given(relationshipStarted(), raised, upheld, raisedAgain);
    again.when(reviewObjection({ purpose: RECORDING, outcome: 'upheld', occurredAt: '2024-05-20T09:00:00Z' })).then(objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-20T09:00:00Z' }));
    const reviewedAgain = objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-20T09:00:00Z' });
    expect(given(relationshipStarted(), raised, upheld, raisedAgain, reviewedAgain).mayProcess({ purpose: RECORDING, at: '2024-06-02T09:00:00Z' })).toMatchObject({
      allowed: false,
      reason: 'objection-pending-review',
    });
  });

  // Found in review: with the outcome already standing, it was answered 200 "already in force".
  it('refuses a review dated before the objection even when its outcome is the standing one', () =>
    given(relationshipStarted(), raised, upheld)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'upheld', occurredAt: '2024-04-20T09:00:00Z' }))
      .thenRejected('review-predates-objection'));

  it('refuses a review dated before the objection was raised', () =>
    given(relationshipStarted(), raised)
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-04-20T09:00:00Z' }))
      .thenRejected('review-predates-objection'));

  // Found by property probes: both were refused for good, since the review was judged against the
  // objection standing when it arrived rather than the one standing at its own instant.
  it('takes a review that arrives after the person withdrew the objection it answered, for the days between', () => {
    const withdrawn = objectionWithdrawn({ target: RECORDING, occurredAt: '2024-05-20T09:00:00Z' });
    const review = { purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T09:00:00Z' } as const;
    given(relationshipStarted(), raised, withdrawn).when(reviewObjection(review)).then(objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: review.occurredAt }));
    const history = [relationshipStarted(), raised, withdrawn, objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: review.occurredAt })];
    expect(given(...history).mayProcess({ purpose: RECORDING, at: '2024-05-15T09:00:00Z' })).toMatchObject({ allowed: true });
  });

  it('takes a review of an objection the person made again, before any review, after the review was dated', () => {
    const review = { purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T09:00:00Z' } as const;
    given(relationshipStarted(), raised, raisedAgain).when(reviewObjection(review)).then(objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: review.occurredAt }));
    const history = [relationshipStarted(), raised, raisedAgain, objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: review.occurredAt })];
    const answerAt = (at: string) => {
      const { allowed, reason } = given(...history).mayProcess({ purpose: RECORDING, at });
      return { allowed, reason };
    };
    expect(answerAt('2024-05-15T09:00:00Z')).toMatchObject({ allowed: true });
    expect(answerAt('2024-06-02T09:00:00Z')).toEqual({ allowed: false, reason: 'objection-pending-review' });
  });

  it.each([
    ['an objection made after the review', raisedAgain, 'objection-pending-review'],
    ['an objection made before the review', objectionRaised({ target: RECORDING, needsReview: true, justification: WHY, occurredAt: '2024-05-05T09:00:00Z' }), 'objected'],
  ])('answers the same whether the review or %s reached the ledger first', (_, again, reason) => {
    const reasonAfter = (...history: LedgerEvent[]) => given(relationshipStarted(), ...history).mayProcess({ purpose: RECORDING, at: '2024-07-01T09:00:00Z' }).reason;
    expect([reasonAfter(raised, upheld, again), reasonAfter(raised, again, upheld)]).toEqual([reason, reason]);
  });
});
