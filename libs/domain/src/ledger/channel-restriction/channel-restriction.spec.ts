import { channelRestricted, channelRestrictionLifted, given, liftChannelRestriction, restrictChannel } from '../../testing';

describe('restricting a channel', () => {
  it('restricts a channel for every purpose', () =>
    given().when(restrictChannel({ channel: 'phone' })).then(channelRestricted({ channel: 'phone' })));

  it('restricts a channel for one purpose', () =>
    given()
      .when(restrictChannel({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }))
      .then(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' })));

  it('records nothing new when the channel is already restricted', () =>
    given(channelRestricted({ channel: 'phone' })).when(restrictChannel({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })).thenNothingHappened());

  it('refuses to restrict a channel the purpose does not use', () =>
    given().when(restrictChannel({ channel: 'tv-screen', purpose: 'newsletter-customers' })).thenRejected('channel-not-used-by-purpose'));

  it('lifts a restriction in force', () =>
    given(channelRestricted({ channel: 'phone' }))
      .when(liftChannelRestriction({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' }))
      .then(channelRestrictionLifted({ channel: 'phone', occurredAt: '2024-06-01T00:00:00Z' })));

  it('records nothing when lifting a restriction that is not in force', () =>
    given().when(liftChannelRestriction({ channel: 'phone' })).thenNothingHappened());

  it('refuses to lift a restriction for one purpose while the channel is restricted for every purpose', () =>
    given(channelRestricted({ channel: 'email' }))
      .when(liftChannelRestriction({ channel: 'email', purpose: 'newsletter-customers' }))
      .thenRejected('in-force-at-another-scope'));

  it('refuses to lift a restriction for every purpose when the channel is restricted only for some', () =>
    given(channelRestricted({ channel: 'email', purpose: 'newsletter-customers' }))
      .when(liftChannelRestriction({ channel: 'email' }))
      .thenRejected('in-force-at-another-scope'));

  it('records nothing when lifting a restriction while only other channels are restricted', () =>
    given(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }), channelRestricted({ channel: 'phone' }))
      .when(liftChannelRestriction({ channel: 'email' }))
      .thenNothingHappened());

  it('keeps a restriction for one purpose apart from a restriction for all', () =>
    given(channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }))
      .when(restrictChannel({ channel: 'sms' }))
      .then(channelRestricted({ channel: 'sms' })));
});
