import { earliest } from '../../time';
import type { Channel, Instant, PurposeId } from '../../vocabulary';
import type { ChannelKey, Choice, ConsentGrant, Ledger, Stamp } from '../ledger';
import { isLater } from '../ledger';

/**
 * Where a consent stands; `grant` is the one that decides (the active one, or one that lapsed).
 * `outdated`: it lapsed because the purpose's notice changed after it was given.
 */
export type ConsentStatus =
  | { readonly state: 'active' | 'expired' | 'outdated'; readonly grant: ConsentGrant; readonly withdrawal?: Choice }
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

/** A consent purpose as far as its consents' standing goes (a `PurposeDefinition` is one). */
export interface ConsentPurpose {
  readonly id: PurposeId;
  /** When the purpose's notice changed in a way its earlier consents did not agree to (see the catalogue). */
  readonly noticeChangedAt?: Instant;
  /** The notice versions that change replaced; absent: every consent given before it. */
  readonly replacedNoticeVersions?: readonly string[];
}

/**
 * Whether the subject's consent to `purpose` holds at `at` on `channel` (any channel when
 * omitted): a grant covering the channel, given after the latest withdrawal, not yet expired, and
 * given after the purpose's notice last changed, or lapsing when it did.
 */
export function consentStatus(ledger: Ledger, purpose: ConsentPurpose, at: Instant, channel?: Channel): ConsentStatus {
  const consent = ledger.consents.get(purpose.id);
  if (!consent) return { state: 'none' };
  const keys: readonly ChannelKey[] = channel ? [channel, '*'] : [...consent.grants.keys()];
  const grants = keys
    .map((key) => consent.grants.get(key))
    .filter((grant): grant is ConsentGrant => grant !== undefined)
    .map((grant) => lapsingWithItsNotice(grant, purpose));
  const standing = grants.filter((grant) => isLater(grant.stamp, consent.withdrawal?.stamp));
  const active = standing.filter((grant) => grant.expiresAt === undefined || at < grant.expiresAt);
  if (active.length > 0) {
    // Several grants may cover the question; the one lasting longest decides how long the answer holds.
    const longest = active.reduce((best, grant) => (grant.expiresAt === undefined || (best.expiresAt !== undefined && grant.expiresAt > best.expiresAt) ? grant : best));
    return { state: 'active', grant: longest, withdrawal: consent.withdrawal };
  }
  if (standing.length > 0) {
    // The last to lapse tells why there is no consent now, whatever order the channels were given in.
    const grant = standing.reduce((last, each) => (each.expiresAt! > last.expiresAt! ? each : last));
    return { state: grant.expiresAt === purpose.noticeChangedAt ? 'outdated' : 'expired', grant, withdrawal: consent.withdrawal };
  }
  if (grants.length > 0 && consent.withdrawal) return { state: 'withdrawn', withdrawal: consent.withdrawal };
  return { state: 'none' };
}

/** A consent as far as when it ends by itself goes. */
export interface GivenConsent {
  readonly givenAt: Instant;
  readonly expiresAt?: Instant;
  readonly noticeVersion: string;
}

/**
 * When a consent ends by itself: at its expiry, or, agreed to the purpose as a notice since
 * replaced described it, when that notice changed (new data, new recipients, a new use), after
 * which the person must be asked again.
 */
export function lapsesAt(consent: GivenConsent, purpose: ConsentPurpose): Instant | undefined {
  const { noticeChangedAt, replacedNoticeVersions } = purpose;
  const agreedToTheReplacedNotice =
    noticeChangedAt !== undefined && consent.givenAt < noticeChangedAt && (replacedNoticeVersions?.includes(consent.noticeVersion) ?? true);
  return agreedToTheReplacedNotice ? earliest(consent.expiresAt, noticeChangedAt) : consent.expiresAt;
}

function lapsingWithItsNotice(grant: ConsentGrant, purpose: ConsentPurpose): ConsentGrant {
  const expiresAt = lapsesAt({ givenAt: grant.stamp.occurredAt, expiresAt: grant.expiresAt, noticeVersion: grant.noticeVersion }, purpose);
  return expiresAt === grant.expiresAt ? grant : { ...grant, expiresAt };
}
