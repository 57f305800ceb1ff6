import type { Channel, Instant, PurposeId } from '../../vocabulary';
import type { ChannelKey, Choice, ConsentGrant, Ledger, Stamp } from '../ledger';
import { isLater } from '../ledger';

/** Where a consent stands; `grant` is the one that decides (the active one, or one that lapsed). */
export type ConsentStatus =
  | { readonly state: 'active' | 'expired'; readonly grant: ConsentGrant; readonly withdrawal?: Choice }
  | { readonly state: 'withdrawn'; readonly withdrawal: Choice }
  | { readonly state: 'none' };

/** The latest grant or withdrawal recorded for `purpose`, by the person's instant. */
export function latestConsentChoice(ledger: Ledger, purpose: PurposeId): Stamp | undefined {
  const consent = ledger.consents.get(purpose);
  if (!consent) return undefined;
  let latest = consent.withdrawal?.stamp;
  for (const grant of consent.grants.values()) if (isLater(grant.stamp, latest)) latest = grant.stamp;
  return latest;
}

/**
 * Whether the subject's consent to `purpose` holds at `at` on `channel` (any channel when
 * omitted): a grant covering the channel, given after the latest withdrawal, not yet expired.
 */
export function consentStatus(ledger: Ledger, purpose: PurposeId, at: Instant, channel?: Channel): ConsentStatus {
  const consent = ledger.consents.get(purpose);
  if (!consent) return { state: 'none' };
  const keys: readonly ChannelKey[] = channel ? [channel, '*'] : [...consent.grants.keys()];
  const grants = keys.map((key) => consent.grants.get(key)).filter((grant): grant is ConsentGrant => grant !== undefined);
  const standing = grants.filter((grant) => isLater(grant.stamp, consent.withdrawal?.stamp));
  const active = standing.filter((grant) => grant.expiresAt === undefined || at < grant.expiresAt);
  if (active.length > 0) {
    // Several grants may cover the question; the one lasting longest decides how long the answer holds.
    const longest = active.reduce((best, grant) => (grant.expiresAt === undefined || (best.expiresAt !== undefined && grant.expiresAt > best.expiresAt) ? grant : best));
    return { state: 'active', grant: longest, withdrawal: consent.withdrawal };
  }
  if (standing.length > 0) return { state: 'expired', grant: standing[standing.length - 1], withdrawal: consent.withdrawal };
  if (grants.length > 0 && consent.withdrawal) return { state: 'withdrawn', withdrawal: consent.withdrawal };
  return { state: 'none' };
}
