import { type Brand, type Channel, mayProcess, type PurposeId } from '@consent-ledger/domain';
import {
  catalogue,
  channelRestricted,
  consentGiven,
  consentWithdrawn,
  instant,
  relationshipEnded,
  relationshipStarted,
  sourceOptedIn,
  sourceOptedOut,
  subjectErased,
} from '@consent-ledger/domain/testing';
import { planEvents } from '../change-set';
import { asStored } from '../testing/stored-events';
import { reevaluated, viewAfter } from '../testing/project';
import type { SubjectView } from '../subject-ledger/subject-view';

const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';
const CONSENTED = '2024-05-01T09:00:00.000Z';
const LATER = '2024-06-01T09:00:00.000Z';

describe('audience membership for Pickx TV advertising and Ads & Data', () => {
  it('makes a customer who consented a member since the moment they consented', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] })]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED, validUntil: null });
    expect(view.audiences.has('ads-and-data')).toBe(false);
  });

  it('keeps no row for a subject who never was a member', () => {
    expect(viewAfter([relationshipStarted()]).audiences.size).toBe(0);
  });

  it('tells the partner the subject left, and since when, after a withdrawal', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: ADS_AND_DATA }),
      consentWithdrawn({ purpose: ADS_AND_DATA, occurredAt: LATER }),
    ]);
    expect(view.audiences.get('ads-and-data')).toMatchObject({ member: false, since: LATER, validUntil: null });
  });

  it('removes a subject from the TV audience when they restrict the TV screen', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      channelRestricted({ channel: 'tv-screen', occurredAt: LATER }),
    ]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: LATER });
  });

  // The partner cannot tell which data it may still use: an opt-out of any source the purpose
  // relies on (Pickx targets on TV viewing) takes the person out of the audience.
  it('removes a subject from an audience when they opt out of a data source the purpose uses, and restores them on opting in', () => {
    const events = [
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      consentGiven({ purpose: ADS_AND_DATA }),
      sourceOptedOut({ source: 'tv-viewing', occurredAt: LATER }),
    ];
    const optedOut = viewAfter(events);
    expect(optedOut.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: LATER });
    expect(optedOut.audiences.get('ads-and-data')).toMatchObject({ member: true, since: CONSENTED });

    const back = viewAfter([...events, sourceOptedIn({ source: 'tv-viewing', occurredAt: '2024-07-01T09:00:00Z' })]);
    expect(back.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: '2024-07-01T09:00:00.000Z' });
  });

  it('ends a membership whose consent ran out at the instant it ran out, not when the sweep noticed', () => {
    const member = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'], expiresAt: instant('2024-05-02T00:00:00Z') })]);
    expect(member.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, validUntil: '2024-05-02T00:00:00.000Z' });

    const { view } = reevaluated(member, '2024-05-02T00:00:20Z');
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: '2024-05-02T00:00:00.000Z', validUntil: null });
  });

  it('starts a new membership when a consent that ran out is given again, whether or not the sweep saw the gap', () => {
    const lapsing = [relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'], expiresAt: instant('2024-05-02T00:00:00Z') })];
    const givenAgain = consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: LATER });

    const withoutSweep = viewAfter([...lapsing, givenAgain]);
    expect(withoutSweep.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: LATER });

    const { view: swept } = reevaluated(viewAfter(lapsing), '2024-05-02T00:00:20Z');
    const [afterSweep] = planEvents(swept.lastPosition, new Map([[swept.subjectId, swept]]), asStored([...lapsing, givenAgain]), catalogue).subjects;
    expect(afterSweep.view.audiences.get('pickx-tv-ads')).toEqual(withoutSweep.audiences.get('pickx-tv-ads'));
  });

  it('keeps a membership renewed before it ran out as one, even when the renewal is recorded after', () => {
    const lateRenewal = consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: '2024-05-01T23:00:00Z', recordedAt: '2024-05-05T09:00:00Z' });
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'], expiresAt: instant('2024-05-02T00:00:00Z') }), lateRenewal]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED });
  });

  it('keeps a membership renewed before it ran out as one membership', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'], expiresAt: instant('2024-07-01T00:00:00Z') }),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: LATER }),
    ]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED });
  });

  it('takes an erased subject out of both audiences', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] }), consentGiven({ purpose: ADS_AND_DATA }), subjectErased({ occurredAt: LATER })]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: LATER });
    expect(view.audiences.get('ads-and-data')).toMatchObject({ member: false, since: LATER });
  });
});

// Found in review: memberships were evaluated for the brand whose relationship changed last, while
// the decision API answers for Proximus unless asked otherwise.
describe('audience membership of a subject with relationships with both brands', () => {
  const SCARLET = 'scarlet' as Brand;
  const THEN = '2024-07-01T09:00:00.000Z';
  /** What GET /v1/subjects/{id}/decision answers for the brand, on the partner's channel, with each source the purpose uses. */
  const allowedFor = (view: SubjectView, purpose: PurposeId, channel: Channel, brand: Brand) =>
    [undefined, ...catalogue.purposes.get(purpose)!.sources].every(
      (source) => mayProcess(view.ledger, catalogue, { purpose, channel, brand, at: view.evaluatedAt, ...(source && { source }) }).allowed,
    );

  it('keeps a Proximus customer in the Ads & Data audience when they become a Scarlet customer too', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: ADS_AND_DATA }), relationshipStarted({ brand: SCARLET, occurredAt: LATER })]);
    expect(allowedFor(view, ADS_AND_DATA, 'online-ads', 'proximus')).toBe(true);
    expect(view.audiences.get('ads-and-data')).toMatchObject({ member: true, since: CONSENTED });
  });

  it('keeps a Proximus customer in the Pickx audience after a Scarlet contract began and ended', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      relationshipStarted({ brand: SCARLET, occurredAt: LATER }),
      relationshipEnded({ brand: SCARLET, occurredAt: THEN }),
    ]);
    expect(allowedFor(view, PICKX, 'tv-screen', 'proximus')).toBe(true);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED });
  });

  it('does not bring a former Proximus customer back into the Pickx audience when a Scarlet contract begins', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      relationshipEnded({ occurredAt: LATER }),
      relationshipStarted({ brand: SCARLET, occurredAt: THEN }),
    ]);
    expect(allowedFor(view, PICKX, 'tv-screen', 'proximus')).toBe(false);
    expect(allowedFor(view, PICKX, 'tv-screen', SCARLET)).toBe(false);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: LATER });
  });

  // The statement excludes Scarlet customers from Ads & Data (7.2.3.2) but not from Pickx TV ads (7.2.3.1).
  it('counts a Scarlet customer\'s consent for the Pickx audience as a Proximus customer\'s', () => {
    const view = viewAfter([relationshipStarted({ brand: SCARLET }), consentGiven({ brand: SCARLET, purpose: PICKX, channels: ['tv-screen'] })]);
    expect(allowedFor(view, PICKX, 'tv-screen', SCARLET)).toBe(true);
    expect(allowedFor(view, PICKX, 'tv-screen', 'proximus')).toBe(false);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED });
  });

  // Found by a DPO review: a cookie manager on proximus.be records the consent without a brand,
  // and the Scarlet-only customer joined the audience through the Proximus answer.
  it('keeps a Scarlet-only customer out of the Ads & Data audience, whatever brand the consent was recorded for', () => {
    const view = viewAfter([relationshipStarted({ brand: SCARLET }), consentGiven({ purpose: ADS_AND_DATA, capture: { touchpoint: 'cookie-manager' } })]);
    expect(allowedFor(view, ADS_AND_DATA, 'online-ads', 'proximus')).toBe(false);
    expect(view.audiences.has('ads-and-data')).toBe(false);
  });

  it('takes a Proximus customer who consented out of the Ads & Data audience when only a Scarlet contract is left', () => {
    const view = viewAfter([
      relationshipStarted(),
      consentGiven({ purpose: ADS_AND_DATA }),
      relationshipStarted({ brand: SCARLET, occurredAt: LATER }),
      relationshipEnded({ occurredAt: THEN }),
    ]);
    expect(view.audiences.get('ads-and-data')).toMatchObject({ member: false, since: THEN });
  });

  it('keeps a customer of both brands in the Pickx audience when one of the contracts ends', () => {
    const view = viewAfter([
      relationshipStarted(),
      relationshipStarted({ brand: SCARLET }),
      consentGiven({ purpose: PICKX, channels: ['tv-screen'] }),
      relationshipEnded({ brand: SCARLET, occurredAt: LATER }),
    ]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, since: CONSENTED, validUntil: null });
  });
});
