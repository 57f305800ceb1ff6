import {
  given,
  objectionRaised,
  objectionReviewed,
  objectionWithdrawn,
  objectTo,
  relationshipStarted,
  reviewObjection,
  sealed,
  withdrawObjection,
} from '../../testing';

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

  it('records nothing when the objection was already withdrawn at that instant or later', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }), objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T09:00:00Z' }))
      .when(withdrawObjection({ purpose: 'direct-marketing', occurredAt: '2024-05-15T09:00:00Z' }))
      .thenNothingHappened());

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

  it('refuses a review when no objection was raised', () =>
    given(relationshipStarted()).when(reviewObjection({ purpose: RECORDING, outcome: 'rejected' })).thenRejected('no-objection-pending-review'));

  it('refuses to review an objection that needs no justification', () =>
    given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }))
      .when(reviewObjection({ purpose: 'direct-marketing', outcome: 'rejected' }))
      .thenRejected('no-objection-pending-review'));

  it('records nothing when the same outcome was already recorded', () =>
    given(
      relationshipStarted(),
      objectionRaised({ target: RECORDING, needsReview: true, justification: WHY }),
      objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T09:00:00Z' }),
    )
      .when(reviewObjection({ purpose: RECORDING, outcome: 'rejected', occurredAt: '2024-05-11T09:00:00Z' }))
      .thenNothingHappened());

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
