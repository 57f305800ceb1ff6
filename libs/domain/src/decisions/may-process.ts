import type { Catalogue, PurposeDefinition } from '../catalogue/catalogue';
import { consentStatus } from '../ledger/consent/consent-status';
import type { EventRef } from '../ledger/events';
import { channelScope, type Choice, type ConsentGrant, type Ledger, sourceScope } from '../ledger/ledger';
import { addDuration } from '../time';
import type { Audience, Brand, Channel, DataSource, DecisionReason, Instant, LegalBasis, PurposeId } from '../vocabulary';

/** The question a marketer, an ad platform or an auditor asks. */
export interface DecisionQuery {
  readonly purpose: PurposeId;
  readonly channel?: Channel;
  readonly source?: DataSource;
  /** Defaults to `proximus`. */
  readonly brand?: Brand;
  readonly at: Instant;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly legalBasis: LegalBasis;
  /** The events that decided the answer. */
  readonly basedOn: readonly EventRef[];
  /** Until when the answer holds without any new event (a consent expiring, a window closing); null: no known end. */
  readonly validUntil: Instant | null;
  /**
   * Asked without a channel, for a purpose that contacts people: the channels it may use now
   * (those the consent covers, less those the subject restricted); empty when it is denied.
   */
  readonly channels?: readonly Channel[];
}

/** Audiences that exist only through a relationship; a purpose reaching anyone else needs none. */
const RELATIONSHIP_AUDIENCES: readonly Audience[] = ['prospect', 'customer', 'former-customer'];

/**
 * May `purpose` be processed for this subject at `at`, via `channel`, using `source`, for `brand`?
 * Pass the subject's ledger as of `at` (see `ledgerAsOf`) to answer for the past.
 */
export function mayProcess(ledger: Ledger, catalogue: Catalogue, query: DecisionQuery): Decision {
  const purpose = catalogue.purposes.get(query.purpose);
  if (!purpose) throw new Error(`unknown purpose "${query.purpose}"`);
  const decision = decisionOn(ledger, catalogue, purpose, query);
  // Asked without a channel, a marketer wants to know where the person may be reached, and "allowed"
  // must not mean "on a channel the person refused".
  if (query.channel || purpose.channels.length === 0) return decision;
  return decision.allowed ? onReachableChannels(ledger, purpose, decision, query.at) : { ...decision, channels: [] };
}

function decisionOn(ledger: Ledger, catalogue: Catalogue, purpose: PurposeDefinition, query: DecisionQuery): Decision {
  const basis = purpose.legalBasis;

  if (purpose.excludedBrands.includes(query.brand ?? 'proximus')) return deny(basis, 'not-applicable-to-brand');
  // A purpose covers the channels and data sources the statement names for it, and no others:
  // segmentation on legitimate interest may not use TV viewing, which needs profiling consent.
  // A purpose that names none is not limited here (the statement is silent, e.g. invoices).
  if (query.channel && purpose.channels.length > 0 && !purpose.channels.includes(query.channel)) return deny(basis, 'channel-not-used-by-purpose');
  if (query.source && purpose.sources.length > 0 && !purpose.sources.includes(query.source)) return deny(basis, 'source-not-used-by-purpose');
  // The law sets its own audience and period (a subscriber's identification data until 12 months
  // after the service ends): neither a choice of the subject nor an erasure changes them.
  if (basis === 'legal-obligation') return relationshipDecision(ledger, purpose, query);
  if (ledger.erasure) return deny(basis, 'subject-erased', [ledger.erasure]);
  if (basis === 'vital-interest') return allow(basis, 'vital-interest');

  // Objection (GDPR art. 21) outranks consent and legitimate interest for the same purpose; an
  // objection to a group such as direct-marketing reaches every member.
  const rejectedObjections: Choice[] = [];
  if (purpose.objection !== 'none') {
    for (const target of [purpose.id, ...(catalogue.groupsOf.get(purpose.id) ?? [])]) {
      const objection = ledger.objections.get(target);
      if (!objection?.raised) continue;
      if (!objection.needsReview) return deny(basis, 'objected', [objection]);
      // Processing is restricted while a motivated objection waits for its review (art. 18(1)(d)).
      if (!objection.review) return deny(basis, 'objection-pending-review', [objection]);
      if (objection.review.outcome === 'upheld') return deny(basis, 'objected', [objection, objection.review]);
      rejectedObjections.push(objection, objection.review);
    }
  }

  const lawful = basis === 'consent' ? consentDecision(ledger, purpose.id, query) : relationshipDecision(ledger, purpose, query);
  if (!lawful.allowed) return lawful;

  if (query.channel && subjectHasASay(purpose)) {
    const restriction = restrictionOf(ledger, query.channel, purpose.id);
    if (restriction) return deny(lawful.legalBasis, 'channel-restricted', [restriction]);
  }
  if (query.source && subjectHasASay(purpose)) {
    const optOut = [sourceScope(query.source), sourceScope(query.source, purpose.id)]
      .map((key) => ledger.sourceOptOuts.get(key))
      .find((toggle) => toggle?.on);
    if (optOut) return deny(lawful.legalBasis, 'source-opted-out', [optOut]);
  }
  return { ...lawful, basedOn: [...lawful.basedOn, ...rejectedObjections.map((choice) => choice.ref)] };
}

// Channel restrictions and source opt-outs are the subject's say over marketing and profiling;
// an SMS restriction must not stop an invoice sent by SMS under the contract.
const subjectHasASay = (purpose: PurposeDefinition): boolean => purpose.objection !== 'none';

/** The restriction in force on `channel` for `purpose`: one for every purpose, or one for this purpose. */
function restrictionOf(ledger: Ledger, channel: Channel, purpose: PurposeId): Choice | undefined {
  return [channelScope(channel), channelScope(channel, purpose)].map((key) => ledger.channelRestrictions.get(key)).find((toggle) => toggle?.on);
}

/**
 * An allowed decision asked without a channel, narrowed to the channels it may use: the ones the
 * consent covers (every channel of the purpose on another basis), less the restricted ones. Its
 * proof and validity are then those of the grants covering those channels, not of a grant on a
 * channel the person restricted since.
 */
function onReachableChannels(ledger: Ledger, purpose: PurposeDefinition, decision: Decision, at: Instant): Decision {
  // The consent that made it allowed: the purpose's own, or the renewal campaign's for a former customer.
  const consentPurpose = decision.reason !== 'consent-active' ? undefined : purpose.legalBasis === 'consent' ? purpose.id : purpose.renewedBy;
  const grants = new Map<Channel, ConsentGrant>();
  if (consentPurpose) {
    for (const channel of purpose.channels) {
      const status = consentStatus(ledger, consentPurpose, at, channel);
      if (status.state === 'active') grants.set(channel, status.grant);
    }
  }
  const covered = consentPurpose ? [...grants.keys()] : purpose.channels;
  const restrictions = subjectHasASay(purpose) ? covered.map((channel) => restrictionOf(ledger, channel, purpose.id)) : [];
  const channels = covered.filter((_, i) => restrictions[i] === undefined);
  if (channels.length === 0) return { ...deny(decision.legalBasis, covered.length > 0 ? 'channel-restricted' : 'no-consent', [...new Set(restrictions)]), channels };
  if (!consentPurpose) return { ...decision, channels };

  const used = [...new Set(channels.map((channel) => grants.get(channel)!))];
  const general = consentStatus(ledger, consentPurpose, at);
  const isGeneralGrant = (ref: EventRef) => general.state === 'active' && ref.eventId === general.grant.ref.eventId && ref.revision === general.grant.ref.revision;
  return {
    ...decision,
    basedOn: decision.basedOn.flatMap((ref) => (isGeneralGrant(ref) ? used.map((grant) => grant.ref) : [ref])),
    validUntil: used.some((grant) => grant.expiresAt === undefined) ? null : used.map((grant) => grant.expiresAt!).reduce((a, b) => (a > b ? a : b)),
    channels,
  };
}

/** Contract, legitimate interest and legal obligation: the subject must be in the purpose's audience at that instant. */
function relationshipDecision(ledger: Ledger, purpose: PurposeDefinition, query: DecisionQuery): Decision {
  const basis = purpose.legalBasis;
  const reason: DecisionReason = basis === 'contract' || basis === 'legal-obligation' ? basis : 'legitimate-interest';
  if (!purpose.audience.every((audience) => RELATIONSHIP_AUDIENCES.includes(audience))) return allow(basis, reason);

  const relationship = ledger.relationships.get(query.brand ?? 'proximus');
  if (!relationship) return deny(basis, 'no-relationship');
  if (relationship.active) {
    // Prospects are reached only through consent: a prospect is never in a legitimate-interest marketing audience.
    return purpose.audience.includes(relationship.kind)
      ? allow(basis, reason, [relationship])
      : deny(basis, 'no-relationship', [relationship]);
  }
  if (relationship.kind !== 'customer' || !purpose.audience.includes('former-customer')) return deny(basis, 'no-relationship', [relationship]);
  if (!purpose.formerCustomerWindow || relationship.endedAt === undefined) return allow(basis, reason, [relationship]);

  const windowEnds = addDuration(relationship.endedAt, purpose.formerCustomerWindow);
  if (query.at < windowEnds) return allow(basis, reason, [relationship], windowEnds);
  if (purpose.renewedBy) {
    // A consent collected in the renewal campaign opens a new period once the window has closed.
    const renewal = consentDecision(ledger, purpose.renewedBy, query);
    if (renewal.allowed) return { ...renewal, basedOn: [relationship.ref, ...renewal.basedOn] };
  }
  return deny(basis, 'retention-window-ended', [relationship]);
}

function consentDecision(ledger: Ledger, consentPurpose: PurposeId, query: DecisionQuery): Decision {
  const status = consentStatus(ledger, consentPurpose, query.at, query.channel);
  switch (status.state) {
    case 'active':
      return allow('consent', 'consent-active', [status.grant], status.grant.expiresAt ?? null);
    case 'expired':
      return deny('consent', 'consent-expired', [status.grant, status.withdrawal]);
    case 'withdrawn':
      return deny('consent', 'consent-withdrawn', [status.withdrawal]);
    case 'none':
      return deny('consent', 'no-consent');
  }
}

function allow(legalBasis: LegalBasis, reason: DecisionReason, basedOn: readonly Choice[] = [], validUntil: Instant | null = null): Decision {
  return { allowed: true, reason, legalBasis, basedOn: basedOn.map((choice) => choice.ref), validUntil };
}

function deny(legalBasis: LegalBasis, reason: DecisionReason, basedOn: readonly (Choice | undefined)[] = []): Decision {
  const refs = basedOn.filter((choice): choice is Choice => choice !== undefined).map((choice) => choice.ref);
  return { allowed: false, reason, legalBasis, basedOn: refs, validUntil: null };
}
