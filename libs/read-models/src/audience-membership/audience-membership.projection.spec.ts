import { channelRestricted, consentGiven, consentWithdrawn, instant, relationshipStarted, subjectErased } from '@consent-ledger/domain/testing';
import { reevaluated, viewAfter } from '../testing/project';

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

  it('ends a membership whose consent ran out at the instant it ran out, not when the sweep noticed', () => {
    const member = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'], expiresAt: instant('2024-05-02T00:00:00Z') })]);
    expect(member.audiences.get('pickx-tv-ads')).toMatchObject({ member: true, validUntil: '2024-05-02T00:00:00.000Z' });

    const { view } = reevaluated(member, '2024-05-02T00:00:20Z');
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: '2024-05-02T00:00:00.000Z', validUntil: null });
  });

  it('takes an erased subject out of both audiences', () => {
    const view = viewAfter([relationshipStarted(), consentGiven({ purpose: PICKX, channels: ['tv-screen'] }), consentGiven({ purpose: ADS_AND_DATA }), subjectErased({ occurredAt: LATER })]);
    expect(view.audiences.get('pickx-tv-ads')).toMatchObject({ member: false, since: LATER });
    expect(view.audiences.get('ads-and-data')).toMatchObject({ member: false, since: LATER });
  });
});
