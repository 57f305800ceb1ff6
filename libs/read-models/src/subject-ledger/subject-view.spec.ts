import type { Brand } from '@consent-ledger/domain';
import { consentGiven, objectionRaised, objectionReviewed, relationshipEnded, relationshipStarted } from '@consent-ledger/domain/testing';
import { viewAfter } from '../testing/project';

const SCARLET = 'scarlet' as Brand;
const PICKX = 'targeted-tv-advertising-pickx';

describe('the brand a subject is evaluated for', () => {
  // Found in review: a Scarlet contract that began and ended after a Proximus one became the
  // brand of the state topic and of the decision rows, while the Proximus contract still ran.
  it('is the brand of a running relationship, not of a contract that ended after it began', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      relationshipStarted({ brand: SCARLET, occurredAt: '2024-06-01T09:00:00Z' }),
      relationshipEnded({ brand: SCARLET, occurredAt: '2024-07-01T09:00:00Z' }),
    ]);
    expect(view.brand).toBe('proximus');
  });

  it('is the brand of the relationship started last when several run', () => {
    const view = viewAfter([relationshipStarted(), relationshipStarted({ brand: SCARLET, occurredAt: '2024-06-01T09:00:00Z' })]);
    expect(view.brand).toBe(SCARLET);
  });

  it('is the brand of the relationship that changed last when none runs', () => {
    const view = viewAfter([
      relationshipStarted(),
      relationshipStarted({ brand: SCARLET, occurredAt: '2024-06-01T09:00:00Z' }),
      relationshipEnded({ brand: SCARLET, occurredAt: '2024-07-01T09:00:00Z' }),
      relationshipEnded({ occurredAt: '2024-08-01T09:00:00Z' }),
    ]);
    expect(view.brand).toBe('proximus');
  });

  it('is the brand of the latest event for a subject without a relationship', () => {
    expect(viewAfter([consentGiven({ brand: SCARLET, purpose: 'advertising-cookies-retargeting' })]).brand).toBe(SCARLET);
  });

  // The DPO's review goes out under the default brand whoever the person dealt with: it made a
  // Scarlet visitor's rows and state Proximus's.
  it("stays the brand of the person's latest choice when the controller reviews their objection under another", () => {
    const view = viewAfter([
      objectionRaised({ brand: SCARLET, target: 'market-analysis-anonymous-insights', needsReview: true }),
      objectionReviewed({ brand: 'proximus', target: 'market-analysis-anonymous-insights', outcome: 'upheld', occurredAt: '2024-06-01T09:00:00Z' }),
    ]);
    expect(view.brand).toBe(SCARLET);
  });
});
