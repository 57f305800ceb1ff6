import { channelRestricted, channelRestrictionLifted, given, liftChannelRestriction, restrictChannel } from '../../testing';

describe('restricting a channel', () => {
  it('restricts a channel for every purpose', () =>
    given().when(restrictChannel({ channel: 'phone' })).then(channelRestricted({ channel: 'phone' })));

  it('restricts a channel for one purpose', () =>
    given()
      .when(restrictChannel({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }))
      .then(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' })));

  it('records nothing new when the channel is restricted from the same instant or later', () =>
    given(channelRestricted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })).when(restrictChannel({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })).thenNothingHappened());

  it('records a restriction made again later, as the person\'s latest word', () =>
    given(channelRestricted({ channel: 'phone' }))
      .when(restrictChannel({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(channelRestricted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })));

  it('refuses to restrict a channel the purpose does not use', () =>
    given().when(restrictChannel({ channel: 'tv-screen', purpose: 'newsletter-customers' })).thenRejected('channel-not-used-by-purpose'));

  it('refuses to restrict a channel for processing the person cannot refuse, such as invoices under the contract', () =>
    given().when(restrictChannel({ channel: 'sms', purpose: 'billing-accounting' })).thenRejected('restriction-not-possible'));

  it('restricts a channel for processing the person may object to with reasons, such as carrier billing by SMS', () =>
    given()
      .when(restrictChannel({ channel: 'sms', purpose: 'direct-carrier-billing' }))
      .then(channelRestricted({ channel: 'sms', purpose: 'direct-carrier-billing' })));

  it('lifts a restriction for processing the person cannot refuse, recorded before such restrictions were refused', () =>
    given(channelRestricted({ channel: 'sms', purpose: 'billing-accounting' }))
      .when(liftChannelRestriction({ channel: 'sms', purpose: 'billing-accounting' }))
      .then(channelRestrictionLifted({ channel: 'sms', purpose: 'billing-accounting' })));

  it('lifts a restriction in force', () =>
    given(channelRestricted({ channel: 'phone' }))
      .when(liftChannelRestriction({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(channelRestrictionLifted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })));

  it('records nothing when the restriction was already lifted at that instant', () =>
    given(channelRestricted({ channel: 'phone' }), channelRestrictionLifted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .when(liftChannelRestriction({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .thenNothingHappened());

  // Between the two, the phone was open again: an auditor asking about those days must find it.
  it('records a lift made before a later one that arrived first', () =>
    given(channelRestricted({ channel: 'phone' }), channelRestrictionLifted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .when(liftChannelRestriction({ channel: 'phone', occurredAt: '2024-05-20T00:00:00Z' }))
      .then(channelRestrictionLifted({ channel: 'phone', occurredAt: '2024-05-20T00:00:00Z' })));

  it('records lifting a restriction never made: one made earlier may still arrive', () =>
    given().when(liftChannelRestriction({ channel: 'phone' })).then(channelRestrictionLifted({ channel: 'phone' })));

  it('refuses to lift a restriction for one purpose while the channel is restricted for every purpose', () =>
    given(channelRestricted({ channel: 'email' }))
      .when(liftChannelRestriction({ channel: 'email', purpose: 'newsletter-customers' }))
      .thenRejected('in-force-at-another-scope'));

  it('refuses to lift a restriction for every purpose when the channel is restricted only for some', () =>
    given(channelRestricted({ channel: 'email', purpose: 'newsletter-customers' }))
      .when(liftChannelRestriction({ channel: 'email' }))
      .thenRejected('in-force-at-another-scope'));

  it('lifts a channel whatever other channels are restricted', () =>
    given(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }), channelRestricted({ channel: 'phone' }))
      .when(liftChannelRestriction({ channel: 'email' }))
      .then(channelRestrictionLifted({ channel: 'email' })));

  it('keeps a restriction for one purpose apart from a restriction for all', () =>
    given(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }))
      .when(restrictChannel({ channel: 'sms' }))
      .then(channelRestricted({ channel: 'sms' })));
});
