import type { Sealed } from '../../vocabulary';
import { decide } from '../decide';
import {
  catalogue,
  channelRestricted,
  consentGiven,
  consentWithdrawn,
  given,
  giveConsent,
  liftChannelRestriction,
  objectionRaised,
  objectTo,
  optInSource,
  optOutSource,
  relationshipStarted,
  restrictChannel,
  sealed,
  sourceOptedOut,
  subjectErased,
  withdrawConsent,
  withdrawObjection,
} from '../../testing';

const TV_ADS = 'targeted-tv-advertising-pickx';
const RECORDING = 'customer-service-recording-quality-control';
const GIVEN_IN_MARCH = '2024-03-01T00:00:00Z';
const WITHDRAWN_IN_APRIL = '2024-04-01T00:00:00Z';
const ERASED_IN_JUNE = '2024-06-01T00:00:00Z';
const EVIDENCE = 'sealed:v1:key-1:cGFwZXI' as Sealed;

const beforeErasure = () => [
  relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' }),
  consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: GIVEN_IN_MARCH }),
  subjectErased({ occurredAt: ERASED_IN_JUNE }),
];
const erased = () => given(...beforeErasure());

// Found in review: a withdrawal on paper, keyed in after the erasure request, was refused however
// often it was sent, and the months between it and the erasure kept "allowed".
describe('the person\'s earlier word against processing, arriving after the erasure', () => {
  it('is recorded when it carries nothing that identifies them', () => {
    erased().when(withdrawConsent({ purpose: TV_ADS, occurredAt: WITHDRAWN_IN_APRIL })).then(consentWithdrawn({ purpose: TV_ADS, occurredAt: WITHDRAWN_IN_APRIL }));
    erased().when(objectTo({ purpose: 'direct-marketing', occurredAt: WITHDRAWN_IN_APRIL })).then(objectionRaised({ target: 'direct-marketing', occurredAt: WITHDRAWN_IN_APRIL }));
    erased().when(restrictChannel({ channel: 'tv-screen', occurredAt: WITHDRAWN_IN_APRIL })).then(channelRestricted({ channel: 'tv-screen', occurredAt: WITHDRAWN_IN_APRIL }));
    erased().when(optOutSource({ source: 'tv-viewing', occurredAt: WITHDRAWN_IN_APRIL })).then(sourceOptedOut({ source: 'tv-viewing', occurredAt: WITHDRAWN_IN_APRIL }));
  });

  it('answers the days between it and the erasure as the person chose', () => {
    const recordedLate = decide(withdrawConsent({ purpose: TV_ADS, occurredAt: WITHDRAWN_IN_APRIL }), erased().ledger, { catalogue });
    const answer = given(...beforeErasure(), ...recordedLate).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2024-05-01T00:00:00Z' });
    expect(answer).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
  });

  it('is refused when it carries evidence or a justification, which could identify the person again', () => {
    erased().when(withdrawConsent({ purpose: TV_ADS, occurredAt: WITHDRAWN_IN_APRIL, capture: { evidenceRef: EVIDENCE } })).thenRejected('subject-erased');
    erased().when(objectTo({ purpose: RECORDING, justification: sealed('recorded without notice'), occurredAt: WITHDRAWN_IN_APRIL })).thenRejected('subject-erased');
  });

  it('is refused when dated from the erasure on', () => {
    erased().when(withdrawConsent({ purpose: TV_ADS, occurredAt: ERASED_IN_JUNE })).thenRejected('subject-erased');
    erased().when(restrictChannel({ channel: 'tv-screen', occurredAt: '2024-07-01T00:00:00Z' })).thenRejected('subject-erased');
  });
});

describe('anything else arriving after the erasure', () => {
  it('is refused, even dated before it: consents, and undoing a choice against processing', () => {
    erased().when(giveConsent({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: WITHDRAWN_IN_APRIL })).thenRejected('subject-erased');
    erased().when(withdrawObjection({ purpose: 'direct-marketing', occurredAt: WITHDRAWN_IN_APRIL })).thenRejected('subject-erased');
    erased().when(liftChannelRestriction({ channel: 'tv-screen', occurredAt: WITHDRAWN_IN_APRIL })).thenRejected('subject-erased');
    erased().when(optInSource({ source: 'tv-viewing', occurredAt: WITHDRAWN_IN_APRIL })).thenRejected('subject-erased');
  });
});
