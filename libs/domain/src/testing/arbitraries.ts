import fc from 'fast-check';
import type { LedgerEvent } from '../ledger/events';
import type { Channel } from '../vocabulary';
import {
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
  consentWithdrawn,
  objectionRaised,
  objectionWithdrawn,
  relationshipEnded,
  relationshipStarted,
  sourceOptedIn,
  sourceOptedOut,
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

const choiceAt = (occurredAt: string): fc.Arbitrary<LedgerEvent> =>
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
    fc.constant(relationshipStarted({ occurredAt })),
    fc.constant(relationshipEnded({ occurredAt })),
  );

/** A subject's history: choices at distinct instants, in the order they reached the ledger. */
export const histories = (maxLength = 25): fc.Arbitrary<LedgerEvent[]> =>
  fc
    .integer({ min: 0, max: maxLength })
    .chain((length) => distinctInstants(length))
    .chain((instants) => fc.tuple(...instants.map(choiceAt)));
