import {
  type Brand,
  type Channel,
  type DataSource,
  DEFAULT_SEGMENT,
  type Instant,
  type PurposeId,
  type RelationshipKind,
  type ReviewOutcome,
  type Segment,
  type SubjectId,
} from '../vocabulary';
import type { EventRef, LedgerEvent, RecordedLedgerEvent } from './events';
import type { CommandCapture } from './commands';

/**
 * The ledger is what decisions need to know about one subject, folded from its events.
 *
 * Channel systems report late and out of order (an offline TV decoder, a call-centre batch), so
 * every choice is kept as a register where the choice the person expressed LAST wins: an older
 * choice arriving later is kept in the log as evidence but does not change the ledger. "Last"
 * is ordered by `occurredAt`, then by position in the stream. See docs/decisions/0001.
 */

/** Orders choices: when the person made it, then where it sits in the stream. */
export interface Stamp {
  readonly occurredAt: Instant;
  readonly revision: number;
  /** The choice came with evidence (`capture.evidenceRef`): a restatement bringing some is not a mere repeat. */
  readonly withEvidence?: true;
}

export interface Choice {
  readonly stamp: Stamp;
  readonly ref: EventRef;
}

export interface ConsentGrant extends Choice {
  /**
   * The brand it was given to: a consent to a customer-only purpose ends with the contract with
   * that brand. Absent in ledgers kept by read models before it existed: the default brand.
   */
  readonly brand?: Brand;
  readonly noticeVersion: string;
  readonly locale?: string;
  readonly expiresAt?: Instant;
}

/** Consent for one purpose: the latest grant per channel (`*` when the purpose contacts nobody) and the latest withdrawal. */
export interface PurposeConsent {
  readonly grants: ReadonlyMap<ChannelKey, ConsentGrant>;
  readonly withdrawal?: Choice;
}

export type ChannelKey = Channel | '*';

export interface ObjectionReview extends Choice {
  readonly outcome: ReviewOutcome;
}

export interface Objection extends Choice {
  readonly raised: boolean;
  readonly needsReview: boolean;
  /** The review of the objection currently raised, if any. */
  readonly review?: ObjectionReview;
  /**
   * Every objection, withdrawal and review for the target, in the order the instants put them
   * (not the order they arrived). The fields above are what replaying it gives (`objectionFrom`),
   * so a review answers the objection standing at its own instant, whichever of them, or of the
   * person's later choices, reached the ledger first.
   */
  readonly history: readonly ObjectionChange[];
}

/** An objection raised or withdrawn by the person, or the operator's review of one, as recorded. */
export type ObjectionChange = Choice &
  ({ readonly change: 'raised'; readonly needsReview: boolean } | { readonly change: 'withdrawn' } | { readonly change: 'reviewed'; readonly outcome: ReviewOutcome });

export interface Relationship extends Choice {
  readonly kind: RelationshipKind;
  readonly segment: Segment;
  readonly active: boolean;
  /** When it began (the `occurredAt` of its first start; a repeat does not move it). */
  readonly startedAt?: Instant;
  /** When it ended (the `occurredAt` of the end), for the former-customer window. */
  readonly endedAt?: Instant;
  /**
   * Every start (prospect or customer) and end of a relationship with the brand, in the order the
   * person's instants put them (not the order they arrived), repeats included. The fields above
   * are what replaying it gives (see `relationshipFrom`), so they are the same in any arrival
   * order; contracts are read from its customer starts and its ends (`formerContractOf`,
   * `firstContractEndAfter`). It outlives the relationship that follows a contract: a former
   * customer recorded again as a prospect is still a former customer.
   */
  readonly history: readonly RelationshipChange[];
}

/** A start (what it began, with its segment) or an end of a relationship with the brand, as recorded. */
export interface RelationshipChange extends Choice {
  readonly started: boolean;
  /** What a start began (absent on an end, which ends whatever ran then, whatever its event says it ended). */
  readonly kind?: RelationshipKind;
  readonly segment?: Segment;
}

/** The end of a contract: the former-customer windows count from it, and consents given under it end with it. */
export interface ContractEnd extends Choice {
  readonly endedAt: Instant;
  readonly segment: Segment;
}

/**
 * The end of the contract that makes the subject a former customer of the brand, the one the
 * former-customer windows count from: the first end of the last contract (an end sent again must
 * not restart the windows), unless a contract runs (its own end will start them again).
 * Undefined for someone who never was a customer of the brand.
 */
export function formerContractOf(relationship: Relationship): ContractEnd | undefined {
  if (relationship.kind === 'customer' && relationship.active) return undefined;
  let segment = relationship.segment;
  let end: ContractEnd | undefined;
  // As in `firstContractEndAfter`: an end while no contract runs ends nothing (as of an instant
  // before the first start the ledger knows of, an end dated before it stands alone).
  let running = false;
  for (const change of contractChangesOf(relationship)) {
    if (change.started) {
      segment = change.segment ?? segment;
      end = undefined;
    } else if (running) {
      end = { stamp: change.stamp, ref: change.ref, endedAt: change.stamp.occurredAt, segment };
    }
    running = change.started;
  }
  return end;
}

/**
 * When the contract running with the brand began, as its history tells: the start after the
 * last end that ended one (a start while a contract runs continues it). Undefined when none runs.
 */
export function runningContractSince(relationship: Relationship): Instant | undefined {
  let since: Instant | undefined;
  for (const change of contractChangesOf(relationship)) {
    if (change.started) since ??= change.stamp.occurredAt;
    else since = undefined;
  }
  return since;
}

/**
 * The first end after `instant` of a customer relationship with the brand: the end of the
 * contract running then, or of the next one. An end while no contract runs (sent again, or dated
 * before the first start the ledger knows of) ends nothing: counting it would make the answer
 * depend on whether the start it belongs to has arrived yet.
 */
export function firstContractEndAfter(relationship: Relationship, instant: Instant): ContractEnd | undefined {
  let segment = relationship.segment;
  let running = false;
  for (const change of contractChangesOf(relationship)) {
    if (change.started) segment = change.segment ?? segment;
    else if (running && change.stamp.occurredAt > instant) return { stamp: change.stamp, ref: change.ref, endedAt: change.stamp.occurredAt, segment };
    running = change.started;
  }
  return undefined;
}

/**
 * Whether a contract with the brand ran at `instant`, as its history tells (not the relationship
 * as it stands now): the last customer start or end at or before it is a start.
 */
export function isContractRunningAt(relationship: Relationship, instant: Instant): boolean {
  let running = false;
  for (const change of contractChangesOf(relationship)) {
    if (change.stamp.occurredAt > instant) break;
    running = change.started;
  }
  return running;
}

/**
 * Whether the brand's history already holds this start (of this kind and segment) or an end at
 * this instant: the same fact delivered again, which adds nothing.
 */
export function holdsRelationshipChange(
  relationship: Relationship,
  instant: Instant,
  change: { readonly started: false } | { readonly started: true; readonly kind: RelationshipKind; readonly segment: Segment },
): boolean {
  return relationship.history.some(
    (recorded) =>
      recorded.stamp.occurredAt === instant &&
      recorded.started === change.started &&
      (!change.started || (recorded.kind === change.kind && recorded.segment === change.segment)),
  );
}

/** The customer starts and every end: a prospect relationship starts no contract. */
const contractChangesOf = (relationship: Relationship): readonly RelationshipChange[] =>
  relationship.history.filter((change) => !change.started || change.kind === 'customer');

/**
 * The relationship the brand's history gives, replayed in the person's order:
 * - a start begins a relationship, or repeats the one running (same kind and segment), which
 *   keeps its start; a customer start turns a prospect into a customer;
 * - a prospect start while a contract runs changes nothing (the person was a customer then;
 *   arriving in that order it is refused, and arriving before the contract it must not undo it);
 * - an end ends what runs, or repeats an end (which keeps its instant: the windows counted from
 *   it must not restart); one before any start ends nothing.
 * A history of only such ends gives a former relationship without a contract, which decides
 * nothing (`formerContractOf` finds none) and keeps the history until its start arrives.
 */
function relationshipFrom(history: readonly RelationshipChange[]): Relationship {
  return withHistory(history.reduce(replayed, undefined), history);
}

type Standing = Omit<Relationship, 'history'>;

function replayed(standing: Standing | undefined, change: RelationshipChange): Standing | undefined {
  if (change.started) {
    const kind = change.kind!;
    const segment = change.segment!;
    if (standing?.active && standing.kind === 'customer' && kind === 'prospect') return standing;
    if (standing?.active && standing.kind === kind && standing.segment === segment) return { ...standing, stamp: change.stamp };
    return { stamp: change.stamp, ref: change.ref, kind, segment, active: true, startedAt: change.stamp.occurredAt };
  }
  if (standing?.active) return { stamp: change.stamp, ref: change.ref, kind: standing.kind, segment: standing.segment, active: false, endedAt: change.stamp.occurredAt };
  return standing && { ...standing, stamp: change.stamp };
}

function withHistory(standing: Standing | undefined, history: readonly RelationshipChange[]): Relationship {
  const last = history[history.length - 1];
  return { ...(standing ?? { stamp: last.stamp, ref: last.ref, kind: 'customer', segment: DEFAULT_SEGMENT, active: false }), history };
}

/** What replaying stood at before `relationship`'s history ended: undefined for a history of ends alone (see relationshipFrom). */
function standingOf({ history: _history, ...standing }: Relationship): Standing | undefined {
  return standing.active || standing.endedAt !== undefined ? standing : undefined;
}

export interface Toggle extends Choice {
  readonly on: boolean;
}

/** `on`: the subject refuses `channel`, for `purpose` or for every purpose. */
export interface ChannelRestriction extends Toggle {
  readonly channel: Channel;
  readonly purpose?: PurposeId;
}

/** `on`: the subject refuses `source` being used, for `purpose` or for every purpose. */
export interface SourceOptOut extends Toggle {
  readonly source: DataSource;
  readonly purpose?: PurposeId;
}

export interface Ledger {
  readonly subjectId?: SubjectId;
  /** Revision of the last event folded in, -1 before the first. */
  readonly revision: number;
  readonly relationships: ReadonlyMap<Brand, Relationship>;
  readonly consents: ReadonlyMap<PurposeId, PurposeConsent>;
  /** Keyed by purpose or purpose group. */
  readonly objections: ReadonlyMap<string, Objection>;
  /** Keyed by `channelScope(channel, purpose?)`. */
  readonly channelRestrictions: ReadonlyMap<string, ChannelRestriction>;
  /** Keyed by `sourceScope(source, purpose?)`. */
  readonly sourceOptOuts: ReadonlyMap<string, SourceOptOut>;
  readonly erasure?: Choice;
}

export const initialLedger = (): Ledger => ({
  revision: -1,
  relationships: new Map(),
  consents: new Map(),
  objections: new Map(),
  channelRestrictions: new Map(),
  sourceOptOuts: new Map(),
});

/** Register key for a restriction of `channel`, for one purpose or for every purpose (`*`). */
export const channelScope = (channel: Channel, purpose?: PurposeId): string => `${channel}|${purpose ?? '*'}`;
export const sourceScope = (source: DataSource, purpose?: PurposeId): string => `${source}|${purpose ?? '*'}`;

/**
 * The other scopes of a channel's or source's register that are on: for a purpose, "every purpose"
 * if the general one is; for every purpose, the purposes restricted on their own.
 */
export function otherScopesOn(register: ReadonlyMap<string, { readonly on: boolean }>, of: Channel | DataSource, purpose?: PurposeId): string[] {
  if (purpose !== undefined) return register.get(`${of}|*`)?.on ? ['every purpose'] : [];
  return [...register].filter(([scope, entry]) => entry.on && scope.startsWith(`${of}|`) && scope !== `${of}|*`).map(([scope]) => scope.slice(of.length + 1));
}

export const isLater = (a: Stamp, b: Stamp | undefined): boolean =>
  b === undefined || a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.revision > b.revision);

/**
 * Whether a command made at `capture.occurredAt` is the person's latest word on a register whose standing
 * choice has `stamp`. Such a command is recorded even when it repeats what stands: a choice dated
 * in between that reaches the ledger later (a decoder offline for a day) must not undo it. Only a
 * repeat made at or before the standing choice changes nothing.
 */
export const isMadeAfter = (capture: Pick<CommandCapture, 'occurredAt'>, stamp: Stamp | undefined): boolean =>
  stamp === undefined || capture.occurredAt > stamp.occurredAt;

/**
 * Whether a command restates the standing choice of its register at the very instant it was
 * made: the same statement delivered again, which adds nothing. One made earlier is recorded
 * even when it repeats what stands now: it is what the person had chosen in the period before,
 * and an auditor asking about that period must find it (an objection of March arriving after
 * the person's April one must still make March's processing unlawful). One bringing evidence the
 * standing choice lacked (the call recording of a choice first keyed in without it) is recorded
 * too: it is the better proof of the same statement.
 */
export const restatesStanding = (capture: Pick<CommandCapture, 'occurredAt' | 'evidenceRef'>, stamp: Stamp | undefined): boolean =>
  stamp !== undefined && capture.occurredAt === stamp.occurredAt && (capture.evidenceRef === undefined || stamp.withEvidence === true);

export function evolve(ledger: Ledger, event: RecordedLedgerEvent): Ledger {
  const next: Ledger = { ...ledger, subjectId: event.data.subjectId, revision: event.revision };
  const choice: Choice = {
    stamp: { occurredAt: event.data.capture.occurredAt, revision: event.revision, ...(event.data.capture.evidenceRef !== undefined && { withEvidence: true }) },
    ref: { eventId: event.eventId, revision: event.revision },
  };
  switch (event.type) {
    case 'RelationshipStarted':
    case 'RelationshipEnded':
      return { ...next, relationships: withRelationship(next.relationships, event, choice) };
    case 'ConsentGiven':
      return { ...next, consents: withGrant(next.consents, event, choice) };
    case 'ConsentWithdrawn':
      return { ...next, consents: withWithdrawal(next.consents, event.data.purpose, choice) };
    case 'ObjectionRaised':
    case 'ObjectionWithdrawn':
    case 'ObjectionReviewed':
      return { ...next, objections: withObjection(next.objections, event, choice) };
    case 'ChannelRestricted':
    case 'ChannelRestrictionLifted': {
      const { channel, purpose } = event.data;
      const restriction = { ...choice, on: event.type === 'ChannelRestricted', channel, ...(purpose !== undefined && { purpose }) };
      return { ...next, channelRestrictions: withToggle(next.channelRestrictions, channelScope(channel, purpose), restriction) };
    }
    case 'SourceOptedOut':
    case 'SourceOptedIn': {
      const { source, purpose } = event.data;
      const optOut = { ...choice, on: event.type === 'SourceOptedOut', source, ...(purpose !== undefined && { purpose }) };
      return { ...next, sourceOptOuts: withToggle(next.sourceOptOuts, sourceScope(source, purpose), optOut) };
    }
    case 'SubjectErased':
      return next.erasure ? next : { ...next, erasure: choice };
    default:
      return assertNever(event);
  }
}

/** Folds a subject's history in stream order. */
export const ledgerOf = (history: readonly RecordedLedgerEvent[]): Ledger => history.reduce(evolve, initialLedger());

export interface AsOf {
  /** Only choices the person had expressed by then (`occurredAt <= at`). */
  readonly at?: Instant;
  /** Only what the ledger had recorded by then (`recordedAt <= knownAt`). */
  readonly knownAt?: Instant;
}

/**
 * The ledger as it stood at a past instant. `at` answers "what had the person chosen by then";
 * `knownAt` answers "what did the system know then" (late paperwork makes the two differ).
 */
export function ledgerAsOf(history: readonly RecordedLedgerEvent[], { at, knownAt }: AsOf): Ledger {
  return history
    .filter((event) => (at === undefined || event.data.capture.occurredAt <= at) && (knownAt === undefined || event.data.capture.recordedAt <= knownAt))
    .reduce(evolve, initialLedger());
}

function withRelationship(
  relationships: ReadonlyMap<Brand, Relationship>,
  event: Extract<LedgerEvent, { type: 'RelationshipStarted' | 'RelationshipEnded' }>,
  choice: Choice,
): ReadonlyMap<Brand, Relationship> {
  const brand = event.data.brand;
  // Every start and end is kept, also one arriving too late to change the relationship as it
  // stands: replayed in the person's order, they give the same relationship in any arrival order.
  const change: RelationshipChange =
    event.type === 'RelationshipStarted' ? { ...choice, started: true, kind: event.data.relationship, segment: event.data.segment } : { ...choice, started: false };
  const current = relationships.get(brand);
  const history = current?.history ?? [];
  const at = history.length === 0 || !replaysAfter(history[history.length - 1], change) ? -1 : history.findIndex((each) => replaysAfter(each, change));
  // The usual case, a change after every other, is one more step of the replay.
  const relationship =
    at === -1 ? withHistory(replayed(current && standingOf(current), change), [...history, change]) : relationshipFrom([...history.slice(0, at), change, ...history.slice(at)]);
  return new Map(relationships).set(brand, relationship);
}

/**
 * The history's order: the person's instants, and at one instant the ends before the starts (a
 * contract ended and the next begun at once, as billing stamps a switch, whichever arrived first);
 * the stream's order last.
 */
function replaysAfter(a: RelationshipChange, b: RelationshipChange): boolean {
  if (a.stamp.occurredAt !== b.stamp.occurredAt) return a.stamp.occurredAt > b.stamp.occurredAt;
  if (a.started !== b.started) return a.started;
  return a.stamp.revision > b.stamp.revision;
}

function withGrant(
  consents: ReadonlyMap<PurposeId, PurposeConsent>,
  event: Extract<LedgerEvent, { type: 'ConsentGiven' }>,
  choice: Choice,
): ReadonlyMap<PurposeId, PurposeConsent> {
  const current: PurposeConsent = consents.get(event.data.purpose) ?? { grants: new Map() };
  const grants = new Map(current.grants);
  const keys: readonly ChannelKey[] = event.data.channels.length > 0 ? event.data.channels : ['*'];
  const grant: ConsentGrant = {
    ...choice,
    brand: event.data.brand,
    noticeVersion: event.data.noticeVersion,
    locale: event.data.locale,
    expiresAt: event.data.expiresAt,
  };
  let changed = false;
  for (const key of keys) {
    if (isLater(choice.stamp, grants.get(key)?.stamp)) {
      grants.set(key, grant);
      changed = true;
    }
  }
  return changed ? new Map(consents).set(event.data.purpose, { ...current, grants }) : consents;
}

function withWithdrawal(
  consents: ReadonlyMap<PurposeId, PurposeConsent>,
  purpose: PurposeId,
  choice: Choice,
): ReadonlyMap<PurposeId, PurposeConsent> {
  const current: PurposeConsent = consents.get(purpose) ?? { grants: new Map() };
  if (!isLater(choice.stamp, current.withdrawal?.stamp)) return consents;
  return new Map(consents).set(purpose, { ...current, withdrawal: choice });
}

function withObjection(
  objections: ReadonlyMap<string, Objection>,
  event: Extract<LedgerEvent, { type: 'ObjectionRaised' | 'ObjectionWithdrawn' | 'ObjectionReviewed' }>,
  choice: Choice,
): ReadonlyMap<string, Objection> {
  const change: ObjectionChange =
    event.type === 'ObjectionRaised'
      ? { ...choice, change: 'raised', needsReview: event.data.needsReview }
      : event.type === 'ObjectionWithdrawn'
        ? { ...choice, change: 'withdrawn' }
        : { ...choice, change: 'reviewed', outcome: event.data.outcome };
  const current = objections.get(event.data.target);
  const history = current?.history ?? [];
  const at = history.length === 0 || !objectionReplaysAfter(history[history.length - 1], change) ? -1 : history.findIndex((each) => objectionReplaysAfter(each, change));
  // The usual case, a change after every other, is one more step of the replay.
  const objection =
    at === -1 ? objectionWithHistory(replayedObjection(current && standingObjectionOf(current), change), [...history, change]) : objectionFrom([...history.slice(0, at), change, ...history.slice(at)]);
  return new Map(objections).set(event.data.target, objection);
}

/**
 * The order objections replay in: the instants, and at one instant the person's choices before
 * the reviews (a review answers an objection made at its own instant); the stream's order last.
 */
function objectionReplaysAfter(a: ObjectionChange, b: ObjectionChange): boolean {
  if (a.stamp.occurredAt !== b.stamp.occurredAt) return a.stamp.occurredAt > b.stamp.occurredAt;
  if ((a.change === 'reviewed') !== (b.change === 'reviewed')) return a.change === 'reviewed';
  return a.stamp.revision > b.stamp.revision;
}

type StandingObjection = Omit<Objection, 'history'>;

/**
 * The objection a history gives, replayed in the instants' order:
 * - an objection begins one, or repeats the one raised (which keeps its review and where it
 *   began); made after that one's review, it is a new objection awaiting a review of its own
 *   (art. 21(1): another answer comes from another objection of the person);
 * - a withdrawal ends the one raised, or repeats a withdrawal;
 * - a review answers the motivated objection raised at its instant, and nothing when none was.
 */
function objectionFrom(history: readonly ObjectionChange[]): Objection {
  return objectionWithHistory(history.reduce(replayedObjection, undefined), history);
}

function replayedObjection(standing: StandingObjection | undefined, change: ObjectionChange): StandingObjection | undefined {
  const choice: Choice = { stamp: change.stamp, ref: change.ref };
  switch (change.change) {
    case 'raised':
      if (standing?.raised && !standing.review) return { ...standing, stamp: change.stamp };
      return { ...choice, raised: true, needsReview: change.needsReview };
    case 'withdrawn':
      if (standing && !standing.raised) return { ...standing, stamp: change.stamp };
      return { ...choice, raised: false, needsReview: false };
    case 'reviewed':
      if (!standing?.raised || !standing.needsReview) return standing;
      return { ...standing, review: { ...choice, outcome: change.outcome } };
  }
}

function objectionWithHistory(standing: StandingObjection | undefined, history: readonly ObjectionChange[]): Objection {
  // Reviews alone (their objection not arrived yet) answer nothing: no objection stands.
  const last = history[history.length - 1];
  return { ...(standing ?? { stamp: last.stamp, ref: last.ref, raised: false, needsReview: false }), history };
}

function standingObjectionOf({ history, ...standing }: Objection): StandingObjection | undefined {
  return history.some((change) => change.change !== 'reviewed') ? standing : undefined;
}

/**
 * The other reviews of the objection a review made at `review`'s instant would answer (the
 * motivated objection raised then, from where it began to its withdrawal or the person's next
 * objection after a review), or `undefined` when none was raised then. Replayed with the review
 * in its place, since a review splits what follows it: an objection the person makes after it is
 * a new one, awaiting a review of its own.
 */
export function otherReviewsOfObjectionAt(objection: Objection | undefined, review: Omit<Extract<ObjectionChange, { change: 'reviewed' }>, 'ref'>): ObjectionReview[] | undefined {
  const candidate: ObjectionChange = { ...review, ref: { eventId: '', revision: review.stamp.revision } };
  const history = objection?.history ?? [];
  const at = history.findIndex((each) => objectionReplaysAfter(each, candidate));
  const replay = at === -1 ? [...history, candidate] : [...history.slice(0, at), candidate, ...history.slice(at)];
  let standing: StandingObjection | undefined;
  let reviews: ObjectionReview[] = [];
  let answered = false;
  for (const change of replay) {
    const before = standing;
    standing = replayedObjection(before, change);
    const sameObjection = before?.raised && standing?.raised && standing.ref === before.ref;
    if (!sameObjection) {
      if (answered) break;
      reviews = [];
    }
    if (change === candidate) {
      if (!before?.raised || !before.needsReview) return undefined;
      answered = true;
    } else if (change.change === 'reviewed' && standing !== before) {
      reviews.push(standing!.review!);
    }
  }
  return reviews;
}

function withToggle<T extends Toggle>(toggles: ReadonlyMap<string, T>, key: string, toggle: T): ReadonlyMap<string, T> {
  if (!isLater(toggle.stamp, toggles.get(key)?.stamp)) return toggles;
  return new Map(toggles).set(key, toggle);
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
