import {
  type Brand,
  BRANDS,
  type Catalogue,
  type Channel,
  type Decision,
  type DecisionQuery,
  evolve,
  initialLedger,
  type Instant,
  isLater,
  latest,
  type Ledger,
  type LedgerEvent,
  mayProcess,
  type Preferences,
  preferencesOf,
  type PurposeId,
} from '@consent-ledger/domain';
import type { GlobalPosition } from '@consent-ledger/event-store';
import { AUDIENCES, type AudienceId, type AudienceRow, type MembershipCause, nextAudienceRow } from '../audience-membership/audience-membership.projection';
import type { ProjectedEvent } from '../ledger-events';

/**
 * What the read models keep per subject: the folded ledger (enough to answer `mayProcess` for any
 * channel, source and instant at or after the last choice), the instant its decisions were last
 * evaluated at, and its audience memberships (which remember since when, so they are history,
 * not a function of the ledger alone). Decision rows and suppression lists derive from it.
 */
export interface SubjectView {
  readonly subjectId: string;
  /**
   * The brand the state topic is evaluated for: of the subject's latest running relationship,
   * else of its latest relationship, else of its latest choice (`isDealingWith`), else of its
   * latest event. The decision rows are kept for it and for each of `brands`. Audiences are not:
   * each has brands of its own (see `audienceDecision`).
   */
  readonly brand: Brand;
  /**
   * The brands the subject dealt with: of its relationships and of the choices it made
   * (`isDealingWith`). The decision rows are kept for each of them (`decisionBrandsOf`), and the
   * state topic carries their decisions (`otherBrands`): a customer of both Proximus and Scarlet,
   * or a Proximus customer who objected on scarlet.be, is in both brands' rows.
   */
  readonly brands: ReadonlySet<Brand>;
  readonly ledger: Ledger;
  readonly lastPosition: GlobalPosition;
  /** Latest `occurredAt` folded in: at or after it, the ledger is the ledger as of that instant. */
  readonly lastOccurredAt: Instant;
  /** Decisions are those at this instant: the store's `recordedAt` of the last event, or a later re-evaluation. */
  readonly evaluatedAt: Instant;
  readonly audiences: ReadonlyMap<AudienceId, AudienceRow>;
  /**
   * When each purpose's decision next changes on its own (a consent expiring, a window closing),
   * for the view's brand or another brand of the subject, for the purposes where one does: lets a
   * new event re-evaluate only the purposes it touches.
   */
  readonly expiries: ReadonlyMap<PurposeId, Instant>;
}

/**
 * `(view | null, event) → view`: pure, and a no-op for an event the view already holds, so a
 * redelivered event changes nothing.
 */
export function projectSubject(stored: SubjectView | null, projected: ProjectedEvent, catalogue: Catalogue): SubjectView {
  if (stored && projected.position <= stored.lastPosition) return stored;
  const { event } = projected;
  // A stream starts at revision 0 once: a later first event means the subject's record was removed
  // (its proof retention ended) and the subject came back, so nothing of the old view carries over.
  const previous = event.revision === 0 ? null : stored;
  const ledger = evolve(previous?.ledger ?? initialLedger(), event);
  // Never evaluate earlier than before: a re-evaluation may already have moved past this event's instant.
  const evaluatedAt = latest(previous?.evaluatedAt, projected.recordedAt) ?? projected.recordedAt;
  const brands = previous?.brands ?? new Set<Brand>();
  const isDealing = isDealingWith(event);
  const view: SubjectView = {
    subjectId: event.data.subjectId,
    brand: subjectBrandOf(ledger, isDealing ? event.data.brand : (previous?.brand ?? event.data.brand)),
    brands: isDealing && !brands.has(event.data.brand) ? new Set([...brands, event.data.brand]) : brands,
    ledger,
    lastPosition: projected.position,
    lastOccurredAt: latest(previous?.lastOccurredAt, event.data.capture.occurredAt) ?? event.data.capture.occurredAt,
    evaluatedAt,
    audiences: previous?.audiences ?? new Map(),
    expiries: previous?.expiries ?? new Map(),
  };
  return withAudiences(view, catalogue, { occurredAt: event.data.capture.occurredAt, evaluatedAt, position: projected.position });
}

/** The same subject, its decisions looked at again at `now` because time passed (a consent expired, a window closed). */
export function reevaluateSubject(view: SubjectView, now: Instant, catalogue: Catalogue): SubjectView {
  if (now <= view.evaluatedAt) return view;
  return withAudiences({ ...view, evaluatedAt: now }, catalogue, { occurredAt: now, evaluatedAt: now, position: view.lastPosition });
}

function withAudiences(view: SubjectView, catalogue: Catalogue, cause: MembershipCause): SubjectView {
  const audiences = new Map(view.audiences);
  for (const { id, purpose, channel } of AUDIENCES) {
    const decision = audienceDecision(view, catalogue, purpose, channel);
    const row = nextAudienceRow(view.audiences.get(id) ?? null, id, view.subjectId, decision, cause);
    if (row) audiences.set(id, row);
  }
  return { ...view, audiences };
}

/**
 * Membership of an audience is not a question of the subject's brand (which follows its
 * relationships): the partner's topic has no brand, so the subject is a member while the purpose
 * is allowed for any brand, each brand asked as `GET /v1/subjects/{id}/decision?brand=` asks it.
 * The catalogue's brand exclusions decide which brands can answer yes: Ads & Data does not apply
 * to Scarlet customers (statement 7.2.3.2), so only Proximus counts there; Pickx TV ads state no
 * exclusion (7.2.3.1), so a Scarlet customer's consent counts as a Proximus customer's does. Of
 * the brands allowing it, the one allowing it longest says until when the membership holds.
 */
function audienceDecision(view: SubjectView, catalogue: Catalogue, purpose: PurposeId, channel: Channel): Decision {
  const decisions = BRANDS.map((brand) => audienceDecisionFor(view, catalogue, { purpose, channel, brand, at: view.evaluatedAt }));
  const allowed = decisions.filter((decision) => decision.allowed);
  if (allowed.length === 0) return decisions[0];
  return allowed.reduce((longest, each) => (longest.validUntil === null || (each.validUntil !== null && each.validUntil <= longest.validUntil) ? longest : each));
}

/**
 * The purpose on the partner's channel, with every data source the purpose relies on: the partner
 * cannot tell which of them it may still use, so an opt-out of any one denies the whole membership.
 */
function audienceDecisionFor(view: SubjectView, catalogue: Catalogue, question: DecisionQuery & { readonly channel: Channel }): Decision {
  const decision = mayProcess(view.ledger, catalogue, question);
  if (!decision.allowed) return decision;
  for (const source of catalogue.purposes.get(question.purpose)?.sources ?? []) {
    const withSource = mayProcess(view.ledger, catalogue, { ...question, source });
    if (!withSource.allowed) return withSource;
  }
  return decision;
}

/**
 * Whether the event is the person's own dealing with its brand: a relationship, or a choice made
 * through one of the brand's touchpoints. An objection's review and an erasure are the
 * controller's acts, sent under the default brand whichever brand the person dealt with, so they
 * say nothing of it.
 */
export const isDealingWith = (event: Pick<LedgerEvent, 'type'>): boolean => event.type !== 'ObjectionReviewed' && event.type !== 'SubjectErased';

/**
 * The brands the subject's decision rows are kept for: its own, and every other it dealt with.
 * One brand's rows lost the customer of both to the other brand's campaigns (found in review: a
 * customer of both read as Scarlet in `rm_decisions`, and Proximus's loyalty programme found them
 * `not-applicable-to-brand` there). In the order of `BRANDS`.
 */
export const decisionBrandsOf = (subject: Pick<SubjectView, 'brand' | 'brands'>): Brand[] => BRANDS.filter((brand) => brand === subject.brand || subject.brands.has(brand));

/** The brands the subject dealt with in `history` (`SubjectView.brands`): what the subject export reads from the log. */
export const brandsDealtWithIn = (history: readonly Pick<LedgerEvent, 'type' | 'data'>[]): Set<Brand> =>
  new Set(history.filter(isDealingWith).map((event) => event.data.brand));

/**
 * The brands besides the view's own that the subject has rows for: the state topic carries their
 * decisions too (`otherBrands`), as the table does, so a brand's team finds the same subjects in
 * either. Until read-model migration 16, only brands of a relationship: a Proximus customer who
 * subscribed to a newsletter on scarlet.be was not Scarlet's to read on the topic.
 */
export const otherBrandsOf = (subject: Pick<SubjectView, 'brand' | 'brands'>): Brand[] => decisionBrandsOf(subject).filter((brand) => brand !== subject.brand);

/** The decisions for one brand besides the subject's own: an entry of `otherBrands`. */
export interface OtherBrand {
  readonly brand: Brand;
  readonly purposes: Preferences['purposes'];
}

/**
 * A purpose can differ by brand (Proximus loyalty marketing does not apply to Scarlet), and
 * preferences are evaluated for one brand: without these, a team of the other brand would read
 * "not applicable" for its own customer. The state topic and the subject export both carry them.
 */
export function otherBrandsPreferencesOf(subject: Pick<SubjectView, 'ledger' | 'brand' | 'brands'>, catalogue: Catalogue, at: Instant): { otherBrands?: OtherBrand[] } {
  const brands = otherBrandsOf(subject);
  if (brands.length === 0) return {};
  return { otherBrands: brands.map((brand) => ({ brand, purposes: preferencesOf(subject.ledger, catalogue, { at, brand }).purposes })) };
}

/**
 * The brand of the subject's latest running relationship; with none running, of the relationship
 * that changed last; with none at all, `latestChoiceBrand`: of its latest choice (`isDealingWith`),
 * or of its latest event when it made none. A contract with another brand that began and ended
 * meanwhile must not take the place of the one still running: the state topic and the decision
 * rows would then speak of a former relationship. Nor may the controller's review of an
 * objection, sent under the default brand, make a Scarlet visitor a Proximus one. The subject
 * export gives its current preferences for this brand too, so the two never disagree about a
 * subject's brand.
 */
export function subjectBrandOf(ledger: Ledger, latestChoiceBrand: Brand): Brand {
  let brand: Brand | undefined;
  let stamp;
  let isRunning = false;
  for (const [relationshipBrand, relationship] of ledger.relationships) {
    const isPreferred = relationship.active !== isRunning ? relationship.active : isLater(relationship.stamp, stamp);
    if (brand === undefined || isPreferred) {
      brand = relationshipBrand;
      stamp = relationship.stamp;
      isRunning = relationship.active;
    }
  }
  return brand ?? latestChoiceBrand;
}
