import { addDuration, type Duration, earliest } from '../../time';
import type { Audience, Brand, Channel, Instant, PurposeId } from '../../vocabulary';
import type { ChannelKey, Choice, ConsentGrant, ContractEnd, Ledger, Stamp } from '../ledger';
import { firstContractEndAfter, isContractRunningAt, isLater } from '../ledger';

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
  /** Who the purpose concerns: a consent to a purpose for customers only ends with the contract it was given under. */
  readonly audience?: readonly Audience[];
  /** How long after a contract ended a former customer stays in the purpose's audience. */
  readonly formerCustomerWindow?: Duration;
}

/**
 * A purpose for customers and no one else (former customers aside), such as ads on the Pickx
 * decoder or a subscriber's directory listing. Purposes for prospects, or only for former
 * customers (the renewal campaign), are left out: their consents (an event, a partner's list, a
 * call) do not wait for a recorded relationship.
 */
export const isForCustomersOnly = (purpose: Pick<ConsentPurpose, 'audience'>): boolean =>
  purpose.audience !== undefined &&
  purpose.audience.includes('customer') &&
  purpose.audience.every((audience) => audience === 'customer' || audience === 'former-customer');

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
    .map((grant) => endingByItself(ledger, purpose, grant));
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
  /** The brand it was recorded for (absent: the default one). */
  readonly brand?: Brand;
}

/** A recorded grant as a given consent. */
export const givenConsentOf = (grant: ConsentGrant): GivenConsent => ({
  givenAt: grant.stamp.occurredAt,
  expiresAt: grant.expiresAt,
  noticeVersion: grant.noticeVersion,
  brand: grant.brand,
});

/**
 * When a consent ends by itself, the one place that says so: at its expiry, when the notice it
 * agreed to was replaced (`lapsesAt`), or, for a customer-only purpose, with the contract it was
 * given under (`contractEndingConsent`), whichever comes first.
 */
export function endsByItself(ledger: Ledger, consent: GivenConsent, purpose: ConsentPurpose): Instant | undefined {
  return earliest(lapsesAt(consent, purpose), contractEndingConsent(ledger, purpose, consent.brand, consent.givenAt)?.consentEndsAt);
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

function endingByItself(ledger: Ledger, purpose: ConsentPurpose, grant: ConsentGrant): ConsentGrant {
  const expiresAt = endsByItself(ledger, givenConsentOf(grant), purpose);
  return expiresAt === grant.expiresAt ? grant : { ...grant, expiresAt };
}

/**
 * When a consent to a customer-only purpose ends with the contract it was given under: at the
 * first end of a customer relationship with its brand after it was given (the contract running
 * then, or, given outside one, the next: a consent collected with an order can be recorded before
 * the contract starts), or when the purpose's former-customer window after that end closes. It
 * does not come back with a later contract: the person is asked again. Undefined while no such end
 * is recorded, and for other purposes (and for one keeping former customers without a window).
 *
 * A channel that does not name the brand records the consent for the default one, and the
 * consent counts for every brand; so unless a contract with the brand it was recorded for ran
 * when it was given, the contracts of every brand decide: it ends at the earliest of their first
 * ends after it was given (a Scarlet customer's consent recorded for Proximus ends with the
 * Scarlet contract, and does not come back with a first Proximus contract).
 */
export function contractEndingConsent(
  ledger: Ledger,
  purpose: ConsentPurpose,
  brand: Brand | undefined,
  givenAt: Instant,
): { readonly contractEnd: ContractEnd; readonly consentEndsAt: Instant } | undefined {
  if (!isForCustomersOnly(purpose)) return undefined;
  const contractEnd = firstEndOfContractGivenUnder(ledger, brand ?? 'proximus', givenAt);
  if (!contractEnd) return undefined;
  if (!purpose.audience!.includes('former-customer')) return { contractEnd, consentEndsAt: contractEnd.endedAt };
  return purpose.formerCustomerWindow === undefined ? undefined : { contractEnd, consentEndsAt: addDuration(contractEnd.endedAt, purpose.formerCustomerWindow) };
}

function firstEndOfContractGivenUnder(ledger: Ledger, brand: Brand, givenAt: Instant): ContractEnd | undefined {
  const own = ledger.relationships.get(brand);
  if (own && isContractRunningAt(own, givenAt)) return firstContractEndAfter(own, givenAt);
  // Its own brand first, then by name: the same end whatever order the brands became known in.
  const brands = [...ledger.relationships.keys()].sort((a, b) => (a === brand ? -1 : b === brand ? 1 : a.localeCompare(b)));
  let first: ContractEnd | undefined;
  for (const each of brands) {
    const end = firstContractEndAfter(ledger.relationships.get(each)!, givenAt);
    if (end && (first === undefined || end.endedAt < first.endedAt)) first = end;
  }
  return first;
}

