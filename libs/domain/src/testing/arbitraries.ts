import fc from 'fast-check';
import type { LedgerCommand } from '../ledger/commands';
import type { LedgerEvent } from '../ledger/events';
import type { Channel } from '../vocabulary';
import {
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
  consentWithdrawn,
  endRelationship,
  giveConsent,
  liftChannelRestriction,
  objectionRaised,
  objectionWithdrawn,
  objectTo,
  optInSource,
  optOutSource,
  relationshipEnded,
  relationshipStarted,
  restrictChannel,
  sourceOptedIn,
  sourceOptedOut,
  startRelationship,
  withdrawConsent,
  withdrawObjection,
} from './builders';

/** A handful of real purposes covering each decision path, so generated histories hit the rules. */
export const SAMPLE_PURPOSES = ['targeted-tv-advertising-pickx', 'direct-marketing-customers-phone-email', 'customer-profiling-consent-based'] as const;
export const SAMPLE_CHANNELS: readonly Channel[] = ['phone', 'email', 'sms', 'tv-screen'];

const DAY = 86_400_000;
const ORIGIN = Date.UTC(2024, 0, 1);

/** Distinct instants (one per day, shuffled) so "the latest choice" is never a tie. */
export const distinctInstants = (count: number) =>
  fc.shuffledSubarray(
    Array.from({ length: 400 }, (_, day) => new Date(ORIGIN + day * DAY).toISOString()),
    { minLength: count, maxLength: count },
  );

/** One of the everyday choices (consents, objections, restrictions, opt-outs, relationships), made at `occurredAt`. */
export const choiceAt = (occurredAt: string): fc.Arbitrary<LedgerEvent> =>
  fc.oneof(
    fc.constantFrom(...SAMPLE_PURPOSES).map((purpose) =>
      consentGiven({ purpose, occurredAt, channels: purpose === 'targeted-tv-advertising-pickx' ? ['tv-screen'] : [] }),
    ),
    fc.constantFrom(...SAMPLE_PURPOSES).map((purpose) => consentWithdrawn({ purpose, occurredAt })),
    fc.constantFrom('direct-marketing', 'targeted-tv-advertising-pickx').map((target) => objectionRaised({ target, occurredAt })),
    fc.constantFrom('direct-marketing', 'targeted-tv-advertising-pickx').map((target) => objectionWithdrawn({ target, occurredAt })),
    fc.constantFrom(...SAMPLE_CHANNELS).map((channel) => channelRestricted({ channel, occurredAt })),
    fc.constantFrom(...SAMPLE_CHANNELS).map((channel) => channelRestrictionLifted({ channel, occurredAt })),
    fc.constant(sourceOptedOut({ source: 'tv-viewing', occurredAt })),
    fc.constant(sourceOptedIn({ source: 'tv-viewing', occurredAt })),
    fc.constantFrom('customer', 'prospect').map((relationship) => relationshipStarted({ relationship, occurredAt })),
    fc.constantFrom('customer', 'prospect').map((relationship) => relationshipEnded({ relationship, occurredAt })),
  );

/** A subject's history: choices at distinct instants, in the order they reached the ledger. */
export const histories = (maxLength = 25): fc.Arbitrary<LedgerEvent[]> =>
  fc
    .integer({ min: 0, max: maxLength })
    .chain((length) => distinctInstants(length))
    .chain((instants) => fc.tuple(...instants.map(choiceAt)));

const commandAt = (occurredAt: string): fc.Arbitrary<LedgerCommand> =>
  fc.oneof(
    fc.constant(giveConsent({ purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], occurredAt })),
    fc.constant(withdrawConsent({ purpose: 'targeted-tv-advertising-pickx', occurredAt })),
    fc.constant(objectTo({ purpose: 'direct-marketing', occurredAt })),
    fc.constant(withdrawObjection({ purpose: 'direct-marketing', occurredAt })),
    fc.constant(restrictChannel({ channel: 'email', occurredAt })),
    fc.constant(liftChannelRestriction({ channel: 'email', occurredAt })),
    fc.constant(optOutSource({ source: 'tv-viewing', occurredAt })),
    fc.constant(optInSource({ source: 'tv-viewing', occurredAt })),
    fc.constant(startRelationship({ occurredAt })),
    fc.constant(endRelationship({ occurredAt })),
  );

/** Commands a person made at distinct instants, in the order they were made (one brand, one subject). */
export const commandSequences = (maxLength = 12): fc.Arbitrary<LedgerCommand[]> =>
  fc
    .integer({ min: 1, max: maxLength })
    .chain((length) => distinctInstants(length))
    .map((instants) => [...instants].sort())
    .chain((instants) => fc.tuple(...instants.map(commandAt)));
