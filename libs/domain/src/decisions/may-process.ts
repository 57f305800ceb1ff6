import { type Catalogue, isStoppedByGeneralRestriction, type PurposeDefinition, subjectHasASay } from '../catalogue/catalogue';
import { type ConsentPurpose, consentStatus, contractEndingConsent, isForCustomersOnly } from '../ledger/consent/consent-status';
import type { EventRef } from '../ledger/events';
import { channelScope, type Choice, type ConsentGrant, type ContractEnd, formerContractOf, isLater, type Ledger, sourceScope } from '../ledger/ledger';
import { addDuration, earliest } from '../time';
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
  /**
   * Asked of one subject without a source, for a purpose that draws on data sources: the sources it
   * may use now (the purpose's, less those the subject opted out of); empty when it is denied.
   * Only `decisionForOneSubject` answers it.
   */
  readonly sources?: readonly DataSource[];
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
  const standing = withConsentsGivenSinceObjecting(ledger, catalogue, purpose);
  const decision = onUsableSources(standing, purpose, decisionOn(standing, catalogue, purpose, query), query);
  // Asked without a channel, a marketer wants to know where the person may be reached, and "allowed"
  // must not mean "on a channel the person refused".
  if (query.channel || purpose.channels.length === 0) return decision;
  return decision.allowed ? onReachableChannels(standing, catalogue, purpose, decision, query.at) : { ...decision, channels: [] };
}

/**
 * The answer to one subject's question (`GET /v1/subjects/{id}/decision`, `consent.decision`):
 * `mayProcess`'s, with `sources` when asked without one, as `channels` when asked without a channel.
 * Without it a consumer of a purpose drawing on several sources learnt only that some source was
 * left, and had to ask once per source to find which. Not in `mayProcess` itself: preferences,
 * the state topic and rm_decisions are built from its answer, and would each have to carry the
 * list (a read-model migration) to keep answering alike.
 */
export function decisionForOneSubject(ledger: Ledger, catalogue: Catalogue, query: DecisionQuery): Decision {
  const decision = mayProcess(ledger, catalogue, query);
  const purpose = catalogue.purposes.get(query.purpose)!;
  if (query.source || purpose.sources.length === 0) return decision;
  if (!decision.allowed) return { ...decision, sources: [] };
  // An opt-out is the subject's say over marketing and profiling only, as in `decisionOn`.
  const sources = subjectHasASay(purpose) ? purpose.sources.filter((source) => sourceOptOutOf(ledger, source, purpose.id) === undefined) : purpose.sources;
  return { ...decision, sources };
}

/**
 * A consent given to a consent purpose after the person objected to it (or to its group, direct
 * marketing) is their latest word for that purpose: they signed up for the newsletter after
 * unsubscribing from everything. Only such consents count then, on the channels they cover: the
 * ones given before the objection stay set aside by it. A motivated objection is not given way to;
 * it awaits or has its review.
 */
function withConsentsGivenSinceObjecting(ledger: Ledger, catalogue: Catalogue, purpose: PurposeDefinition): Ledger {
  const consent = ledger.consents.get(purpose.id);
  if (purpose.legalBasis !== 'consent' || !consent) return ledger;
  let objectedAt: Choice | undefined;
  for (const target of [purpose.id, ...(catalogue.groupsOf.get(purpose.id) ?? [])]) {
    const objection = ledger.objections.get(target);
    if (objection?.raised && !objection.needsReview && isLater(objection.stamp, objectedAt?.stamp)) objectedAt = objection;
  }
  if (!objectedAt) return ledger;
  const since = [...consent.grants].filter(([, grant]) => isLater(grant.stamp, objectedAt.stamp));
  if (since.length === 0) return ledger;
  return { ...ledger, consents: new Map(ledger.consents).set(purpose.id, { ...consent, grants: new Map(since) }) };
}

/**
 * Whether a consent given after `objection` covers the question (`withConsentsGivenSinceObjecting`
 * left only such ones): the objection then no longer stops the purpose there. The suppression lists
 * go by it too, so they never list someone the decisions allow.
 */
export function isConsentedToSince(ledger: Ledger, purpose: PurposeDefinition, objection: Choice, channel: Channel | undefined): boolean {
  if (purpose.legalBasis !== 'consent') return false;
  const grants = ledger.consents.get(purpose.id)?.grants;
  if (!grants) return false;
  const covering = channel ? [grants.get(channel), grants.get('*')] : [...grants.values()];
  return covering.some((grant) => grant !== undefined && isLater(grant.stamp, objection.stamp));
}

function decisionOn(ledger: Ledger, catalogue: Catalogue, purpose: PurposeDefinition, query: DecisionQuery): Decision {
  const basis = purpose.legalBasis;

  if (purpose.excludedBrands.includes(query.brand ?? 'proximus')) return deny(basis, 'not-applicable-to-brand');
  const excludedContracts = contractsOnlyWithExcludedBrands(ledger, purpose);
  if (excludedContracts) return deny(basis, 'not-applicable-to-brand', excludedContracts);
  // A purpose covers the channels and data sources the statement names for it, and no others:
  // segmentation on legitimate interest may not use TV viewing, which needs profiling consent.
  // A purpose that names none is not limited here (the statement is silent, e.g. invoices), except
  // marketing that names no data source: it draws on none, since marketing personalised with
  // viewing or usage data is the profiling purposes' (§4.4). Pickx promotional campaigns name
  // none so as not to use TV viewing without consent, and a question naming it was allowed
  // (found in review); TV viewing statistics or app analytics asked with theirs still are.
  if (query.channel && purpose.channels.length > 0 && !purpose.channels.includes(query.channel)) return deny(basis, 'channel-not-used-by-purpose');
  if (query.source && !purpose.sources.includes(query.source) && (purpose.sources.length > 0 || isMarketing(purpose))) return deny(basis, 'source-not-used-by-purpose');
  // The law sets its own audience and period (a subscriber's identification data until 12 months
  // after the service ends): neither a choice of the subject nor an erasure changes them.
  if (basis === 'legal-obligation') return relationshipDecision(ledger, catalogue, purpose, query);
  // An erasure stops the rest, except what the law makes us keep (billing records) and what legal
  // claims need (debts, disputes, proof of consent), each within its own window (art. 17(3)(b), (e)).
  if (ledger.erasure && !purpose.erasureException) return deny(basis, 'subject-erased', [ledger.erasure]);
  if (basis === 'vital-interest') return allow(basis, 'vital-interest');

  // Objection (GDPR art. 21) outranks consent and legitimate interest for the same purpose; an
  // objection to a group such as direct-marketing reaches every member.
  const rejectedObjections: Choice[] = [];
  if (purpose.objection !== 'none') {
    for (const target of [purpose.id, ...(catalogue.groupsOf.get(purpose.id) ?? [])]) {
      const objection = ledger.objections.get(target);
      if (!objection?.raised) continue;
      if (!objection.needsReview && isConsentedToSince(ledger, purpose, objection, query.channel)) continue;
      if (!objection.needsReview) return deny(basis, 'objected', [objection]);
      // Processing is restricted while a motivated objection waits for its review (art. 18(1)(d)).
      if (!objection.review) return deny(basis, 'objection-pending-review', [objection]);
      if (objection.review.outcome === 'upheld') return deny(basis, 'objected', [objection, objection.review]);
      rejectedObjections.push(objection, objection.review);
    }
  }

  const lawful = basis === 'consent' ? consentPurposeDecision(ledger, purpose, query) : relationshipDecision(ledger, catalogue, purpose, query);
  if (!lawful.allowed) return lawful;

  if (query.channel && subjectHasASay(purpose)) {
    const restriction = restrictionOf(ledger, catalogue, query.channel, purpose);
    if (restriction) return deny(lawful.legalBasis, 'channel-restricted', [restriction]);
  }
  if (query.source && subjectHasASay(purpose)) {
    const optOut = sourceOptOutOf(ledger, query.source, purpose.id);
    if (optOut) return deny(lawful.legalBasis, 'source-opted-out', [optOut]);
  }
  return { ...lawful, basedOn: [...lawful.basedOn, ...rejectedObjections.map((choice) => choice.ref)] };
}

/**
 * The running contracts of a subject who is a customer only of brands the purpose does not apply
 * to, whatever brand the question names: Ads & Data does not concern a Scarlet customer (7.2.3.2)
 * though a cookie manager on proximus.be records the consent without a brand. Undefined when a
 * contract with a brand it applies to runs too, or none runs with a brand it excludes (a former
 * Scarlet customer may be a visitor like anyone).
 */
function contractsOnlyWithExcludedBrands(ledger: Ledger, purpose: PurposeDefinition): Choice[] | undefined {
  if (purpose.excludedBrands.length === 0) return undefined;
  const running = [...ledger.relationships].filter(([, relationship]) => relationship.active && relationship.kind === 'customer');
  if (running.length === 0 || running.some(([brand]) => !purpose.excludedBrands.includes(brand))) return undefined;
  return running.map(([, relationship]) => relationship);
}

/**
 * The restriction in force on `channel` for `purpose`: one for this purpose, or one for every
 * purpose when the purpose is marketing (`isStoppedByGeneralRestriction`). A channel turned off
 * for everything is the statement's choice of how marketing may reach the person (§11.1.4); it
 * must not stop the SMS that carries a carrier-billing subscription's details and its STOP, nor
 * the app's push about invoices (both found in review), which a restriction naming them still does.
 */
export function restrictionOf(ledger: Ledger, catalogue: Catalogue, channel: Channel, purpose: PurposeDefinition): Choice | undefined {
  const scopes = isStoppedByGeneralRestriction(purpose, catalogue) ? [channelScope(channel), channelScope(channel, purpose.id)] : [channelScope(channel, purpose.id)];
  return scopes.map((key) => ledger.channelRestrictions.get(key)).find((toggle) => toggle?.on);
}

/** The opt-out in force of `source` for `purpose`: one for every purpose, or one for this purpose. */
export function sourceOptOutOf(ledger: Ledger, source: DataSource, purpose: PurposeId): Choice | undefined {
  return [sourceScope(source), sourceScope(source, purpose)].map((key) => ledger.sourceOptOuts.get(key)).find((toggle) => toggle?.on);
}

/**
 * An allowed decision asked without a source, for a purpose that draws on data sources: denied when
 * the person opted out of every one of them, as nothing is then left to process. With some left it
 * stands; a consumer using one source asks with `source`.
 */
function onUsableSources(ledger: Ledger, purpose: PurposeDefinition, decision: Decision, query: DecisionQuery): Decision {
  if (!decision.allowed || query.source || purpose.sources.length === 0 || !subjectHasASay(purpose)) return decision;
  const optOuts = purpose.sources.map((source) => sourceOptOutOf(ledger, source, purpose.id));
  if (optOuts.some((optOut) => optOut === undefined)) return decision;
  return deny(decision.legalBasis, 'source-opted-out', [...new Set(optOuts)]);
}

/**
 * An allowed decision asked without a channel, narrowed to the channels it may use: the ones the
 * consent covers (every channel of the purpose on another basis), less the restricted ones. Its
 * proof and validity are then those of the grants covering those channels, not of a grant on a
 * channel the person restricted since.
 */
function onReachableChannels(ledger: Ledger, catalogue: Catalogue, purpose: PurposeDefinition, decision: Decision, at: Instant): Decision {
  // The consent that made it allowed: the purpose's own, or the renewal campaign's for a former customer.
  const consentPurpose = decision.reason !== 'consent-active' ? undefined : purpose.legalBasis === 'consent' ? purpose : renewalOf(catalogue, purpose);
  const grants = new Map<Channel, ConsentGrant>();
  if (consentPurpose) {
    for (const channel of purpose.channels) {
      const status = consentStatus(ledger, consentPurpose, at, channel);
      if (status.state === 'active') grants.set(channel, status.grant);
    }
  }
  const covered = consentPurpose ? [...grants.keys()] : purpose.channels;
  const restrictions = subjectHasASay(purpose) ? covered.map((channel) => restrictionOf(ledger, catalogue, channel, purpose)) : [];
  const channels = covered.filter((_, i) => restrictions[i] === undefined);
  if (channels.length === 0) return { ...deny(decision.legalBasis, covered.length > 0 ? 'channel-restricted' : 'no-consent', [...new Set(restrictions)]), channels };
  if (!consentPurpose) return { ...decision, channels };

  // One grant covering several channels is one proof (by id: a ledger read back from JSON holds a copy per channel).
  const used = [...new Map(channels.map((channel) => grants.get(channel)!).map((grant) => [grant.ref.eventId, grant])).values()];
  const general = consentStatus(ledger, consentPurpose, at);
  const isGeneralGrant = (ref: EventRef) => general.state === 'active' && ref.eventId === general.grant.ref.eventId && ref.revision === general.grant.ref.revision;
  // The list of channels changes when the first of their grants runs out, before an earlier end
  // of the whole answer (a former-customer window) if that comes first.
  return {
    ...decision,
    basedOn: decision.basedOn.flatMap((ref) => (isGeneralGrant(ref) ? used.map((grant) => grant.ref) : [ref])),
    validUntil: earliest(decision.validUntil ?? undefined, ...used.map((grant) => grant.expiresAt)) ?? null,
    channels,
  };
}

/** Contract, legitimate interest and legal obligation: the subject must be in the purpose's audience at that instant. */
function relationshipDecision(ledger: Ledger, catalogue: Catalogue, purpose: PurposeDefinition, query: DecisionQuery): Decision {
  const basis = purpose.legalBasis;
  const reason: DecisionReason = basis === 'contract' || basis === 'legal-obligation' ? basis : 'legitimate-interest';
  const membership = audienceMembership(ledger, purpose, query);
  if (membership.isMember) return allow(basis, reason, membership.basedOn, membership.until);
  if (membership.reason === 'retention-window-ended' && purpose.renewedBy) {
    // A consent collected in the renewal campaign opens a new period once the window has closed.
    const renewal = consentDecision(ledger, renewalOf(catalogue, purpose)!, query);
    if (renewal.allowed) return { ...renewal, basedOn: [...refsOf(membership.basedOn), ...renewal.basedOn] };
  }
  return deny(basis, membership.reason, membership.basedOn);
}

/**
 * Consent: a consent to a purpose that exists only for customers (ads on the Pickx decoder, a
 * subscriber's directory listing) counts only while the subject is in its audience, as for
 * legitimate interest: a customer of the brand, or a former customer within the purpose's window.
 * It also ends with the contract it was given under (see `contractEndingConsent`), so a new
 * contract does not bring it back.
 */
function consentPurposeDecision(ledger: Ledger, purpose: PurposeDefinition, query: DecisionQuery): Decision {
  const consent = consentDecision(ledger, purpose, query);
  if (!isForCustomersOnly(purpose)) return consent;
  const membership = audienceMembership(ledger, purpose, query);
  if (!membership.isMember) return deny('consent', membership.reason, membership.basedOn);
  if (!consent.allowed) return consent;
  const validUntil = earliest(membership.until ?? undefined, consent.validUntil ?? undefined) ?? null;
  return { ...consent, basedOn: [...refsOf(membership.basedOn), ...consent.basedOn], validUntil };
}

/**
 * When the subject leaves the purpose's audience without a new event (a former-customer window
 * closing), if in it at `query.at`. An answer denied for another reason (a consent withdrawn)
 * changes its reason then, though its `validUntil` is null: read models must look again.
 */
export function audienceLeftAt(ledger: Ledger, purpose: PurposeDefinition, query: DecisionQuery): Instant | undefined {
  const membership = audienceMembership(ledger, purpose, query);
  return membership.isMember ? (membership.until ?? undefined) : undefined;
}

/** Whether the subject is in the purpose's audience at `query.at`, and on which relationship, until when. */
type Membership =
  | { readonly isMember: true; readonly basedOn: readonly Choice[]; readonly until: Instant | null }
  | { readonly isMember: false; readonly reason: DecisionReason; readonly basedOn: readonly Choice[] };

function audienceMembership(ledger: Ledger, purpose: PurposeDefinition, query: DecisionQuery): Membership {
  const relationship = ledger.relationships.get(query.brand ?? 'proximus');
  const isInAsRelationship = relationship?.active === true && purpose.audience.includes(relationship.kind);
  // A former customer recorded again as a prospect is both: the windows of the contract run on.
  const contractEnd = relationship && !isInAsRelationship && purpose.audience.includes('former-customer') ? formerContractOf(relationship) : undefined;

  // Users, visitors and callers need no relationship, so the ledger cannot tell who is not one and
  // such a purpose reaches anyone, on no event. Except a former customer whose window the purpose
  // declares: the ledger knows who they are, and a former subscriber's identification data is
  // not kept as a user's for good once it closes.
  if (!purpose.audience.every((audience) => RELATIONSHIP_AUDIENCES.includes(audience))) {
    return contractEnd && purpose.formerCustomerWindow ? formerCustomerMembership(purpose, contractEnd, query.at) : member([]);
  }
  if (!relationship) return outside('no-relationship');
  // Prospects are reached only through consent: a prospect is never in a legitimate-interest marketing audience.
  if (isInAsRelationship) return member([relationship]);
  return contractEnd ? formerCustomerMembership(purpose, contractEnd, query.at) : outside('no-relationship', [relationship]);
}

/** A former customer in the purpose's audience: for good where it declares no window, else until the window closes. */
function formerCustomerMembership(purpose: PurposeDefinition, contractEnd: ContractEnd, at: Instant): Membership {
  if (!purpose.formerCustomerWindow) return member([contractEnd]);
  const windowEnds = addDuration(contractEnd.endedAt, purpose.formerCustomerWindow);
  return at < windowEnds ? member([contractEnd], windowEnds) : outside('retention-window-ended', [contractEnd]);
}

const member = (basedOn: readonly Choice[], until: Instant | null = null): Membership => ({ isMember: true, basedOn, until });
const outside = (reason: DecisionReason, basedOn: readonly Choice[] = []): Membership => ({ isMember: false, reason, basedOn });

function consentDecision(ledger: Ledger, consentPurpose: ConsentPurpose, query: DecisionQuery): Decision {
  const status = consentStatus(ledger, consentPurpose, query.at, query.channel);
  switch (status.state) {
    case 'active':
      return allow('consent', 'consent-active', [status.grant], status.grant.expiresAt ?? null);
    case 'expired': {
      // A consent that ended with its contract names that end first, as a relationship decision does.
      const ending = contractEndingConsent(ledger, consentPurpose, status.grant.brand, status.grant.stamp.occurredAt);
      const contractEnd = ending && ending.consentEndsAt === status.grant.expiresAt ? ending.contractEnd : undefined;
      return deny('consent', 'consent-expired', [contractEnd, status.grant, status.withdrawal]);
    }
    case 'outdated':
      return deny('consent', 'notice-changed', [status.grant, status.withdrawal]);
    case 'withdrawn':
      return deny('consent', 'consent-withdrawn', [status.withdrawal]);
    case 'none':
      return deny('consent', 'no-consent');
  }
}

/** The consent purpose whose consent reopens `purpose` after its former-customer window (see the catalogue's `renewedBy`). */
const renewalOf = (catalogue: Catalogue, purpose: PurposeDefinition): PurposeDefinition | undefined =>
  purpose.renewedBy === undefined ? undefined : catalogue.purposes.get(purpose.renewedBy);

const refsOf = (choices: readonly Choice[]): EventRef[] => choices.map((choice) => choice.ref);

function allow(legalBasis: LegalBasis, reason: DecisionReason, basedOn: readonly Choice[] = [], validUntil: Instant | null = null): Decision {
  return { allowed: true, reason, legalBasis, basedOn: refsOf(basedOn), validUntil };
}

function deny(legalBasis: LegalBasis, reason: DecisionReason, basedOn: readonly (Choice | undefined)[] = []): Decision {
  const refs = basedOn.filter((choice): choice is Choice => choice !== undefined).map((choice) => choice.ref);
  return { allowed: false, reason, legalBasis, basedOn: refs, validUntil: null };
}

const isMarketing = (purpose: PurposeDefinition): boolean => purpose.category === 'direct-marketing' || purpose.category === 'advertising';
