import { type Brand, type Catalogue, earliest, type Instant, type PurposeDefinition } from '@consent-ledger/domain';
import type { GlobalPosition, StoredEvent } from '@consent-ledger/event-store';
import type { AudienceRow } from './audience-membership/audience-membership.projection';
import { suppressionKey, suppressionRowsOf, type SuppressionRow } from './channel-suppressions/channel-suppressions.projection';
import { decisionRowsOf, type DecisionRow, isSameDecisionRow, purposesTouched, withoutHistory } from './current-decisions/current-decisions.projection';
import { readLedgerEvent } from './ledger-events';
import { decisionBrandsOf, projectSubject, reevaluateSubject, type SubjectView } from './subject-ledger/subject-view';

/** What one transaction writes for one subject: the new view and only the rows that changed. */
export interface SubjectChange {
  readonly view: SubjectView;
  /** Which stored view the change was made on (null: a new subject), so a cache of it can be patched. */
  readonly previous: { readonly lastPosition: GlobalPosition; readonly evaluatedAt: Instant } | null;
  /** When the subject's decisions next change on their own; the time sweep looks again then. */
  readonly nextChangeAt: Instant | null;
  /** Rows that changed, of every brand the subject has rows for; for a new subject, rows that differ from a subject with no history. */
  readonly decisions: readonly DecisionRow[];
  readonly suppressionsAdded: readonly SuppressionRow[];
  readonly suppressionsRemoved: readonly SuppressionRow[];
  readonly audiences: readonly AudienceRow[];
  /** Whether anything a consumer sees changed (decisions of any of its brands, suppressions or audiences). */
  readonly isVisible: boolean;
}

/** Everything one transaction writes, with the checkpoint it advances to. */
export interface ChangeSet {
  readonly checkpoint: GlobalPosition;
  readonly subjects: readonly SubjectChange[];
  /** Ledger events passed over because the read models cannot read them (to be reported, not to stop the log). */
  readonly unreadable: readonly string[];
}

/**
 * Plans applying `events` on top of the stored views: pure, so the storage adapters run it inside
 * the transaction that also moves the checkpoint. Events at or below the checkpoint (or a view's
 * own last position) change nothing, which makes redelivery harmless.
 */
export function planEvents(
  checkpoint: GlobalPosition,
  stored: ReadonlyMap<string, SubjectView>,
  events: readonly StoredEvent[],
  catalogue: Catalogue,
): ChangeSet {
  const views = new Map(stored);
  const unreadable: string[] = [];
  let next = checkpoint;
  for (const event of events) {
    if (event.position <= checkpoint) continue;
    next = event.position > next ? event.position : next;
    const reading = readLedgerEvent(event);
    if (reading.kind === 'unreadable') unreadable.push(reading.reason);
    if (reading.kind !== 'ledger') continue;
    const subjectId = reading.projected.event.data.subjectId;
    try {
      views.set(subjectId, projectSubject(views.get(subjectId) ?? null, reading.projected, catalogue));
    } catch (error) {
      // A recorded fact is never refused; one the projection cannot handle is passed over and reported.
      unreadable.push(`${event.type} at position ${event.position}: ${(error as Error).message}`);
    }
  }
  const subjects = [...views.values()]
    .filter((view) => view !== stored.get(view.subjectId))
    .map((view) => changeOf(stored.get(view.subjectId) ?? null, view, catalogue));
  return { checkpoint: next, subjects, unreadable };
}

/** Plans looking at subjects again at `now`, because time passed since their decisions were evaluated. */
export function planReevaluation(
  checkpoint: GlobalPosition,
  stored: readonly SubjectView[],
  now: Instant,
  catalogue: Catalogue,
): ChangeSet {
  const subjects = stored
    .map((view) => ({ before: view, after: reevaluateSubject(view, now, catalogue) }))
    .filter(({ before, after }) => before !== after)
    .map(({ before, after }) => changeOf(before, after, catalogue));
  return { checkpoint, subjects, unreadable: [] };
}

export function changeOf(before: SubjectView | null, after: SubjectView, catalogue: Catalogue): SubjectChange {
  // A new subject is compared with a subject with no history: its rows are only those that differ.
  const baseline = before ?? withoutHistory(after);
  const brandsBefore = decisionBrandsOf(baseline);
  const brandsAfter = decisionBrandsOf(after);
  // Only the purposes the change can touch are evaluated: a consent event costs one or two
  // purposes, not the whole catalogue (which a relationship, an erasure or an expiry needs), also
  // when it is a new subject's first event.
  const touched = purposesTouched(baseline, after, catalogue);
  // A brand the subject deals with for the first time has no rows yet, those of a subject with no
  // history: every purpose the ledger holds something for may differ from them. A brand it no
  // longer has (its record was removed and it came back) goes back to them.
  const newBrands = brandsAfter.filter((brand) => !brandsBefore.includes(brand));
  const goneBrands = brandsBefore.filter((brand) => !brandsAfter.includes(brand));
  const evaluated = goneBrands.length > 0 ? 'all' : newBrands.length > 0 ? either(touched, purposesTouched(withoutHistory(after), after, catalogue)) : touched;
  const purposes = evaluated === 'all' ? [...catalogue.purposes.values()] : [...evaluated];

  const rowsOf = (view: SubjectView, brand: Brand, has: readonly Brand[]) =>
    decisionRowsOf(has.includes(brand) ? { ...view, brand } : { ...withoutHistory(view), brand }, catalogue, purposes);
  const byBrand = [...brandsBefore, ...newBrands].map((brand) => ({
    brand,
    before: rowsOf(baseline, brand, brandsBefore),
    after: rowsOf(after, brand, brandsAfter),
  }));
  const decisions = byBrand.flatMap((rows) => rows.after.filter((row, i) => !isSameDecisionRow(rows.before[i], row)));
  // Every brand's rows count for when the subject is looked at again: a window closing for its
  // other brand changes rows too (and the state topic, which carries them).
  const kept = byBrand.filter((rows) => brandsAfter.includes(rows.brand));
  const expiries = new Map(evaluated === 'all' ? [] : after.expiries);
  purposes.forEach((purpose, i) => {
    const changesAt = earliest(...kept.map((rows) => rows.after[i].changesAt ?? undefined));
    if (changesAt === undefined) expiries.delete(purpose.id);
    else expiries.set(purpose.id, changesAt);
  });
  const view: SubjectView = { ...after, expiries };

  const suppressionsBefore = new Map(before ? suppressionRowsOf(before, catalogue).map((row) => [suppressionKey(row), row]) : []);
  const suppressionsAfter = new Map(suppressionRowsOf(after, catalogue).map((row) => [suppressionKey(row), row]));
  const suppressionsAdded = [...suppressionsAfter].filter(([key, row]) => suppressionsBefore.get(key)?.since !== row.since).map(([, row]) => row);
  const suppressionsRemoved = [...suppressionsBefore].filter(([key]) => !suppressionsAfter.has(key)).map(([, row]) => row);

  const audiences = [...after.audiences.values()].filter((row) => before?.audiences.get(row.audience) !== row);
  return {
    view,
    previous: before && { lastPosition: before.lastPosition, evaluatedAt: before.evaluatedAt },
    nextChangeAt: nextChangeOf(view),
    decisions,
    suppressionsAdded,
    suppressionsRemoved,
    audiences,
    isVisible: decisions.length + suppressionsAdded.length + suppressionsRemoved.length + audiences.length > 0,
  };
}

/**
 * Whether a change caused by time goes into the outbox for the feeds to publish: a visible change
 * of a subject not erased. An erased subject's topics hold its tombstone, sent with the erasure;
 * what time still changes after it (the windows of billing records and legal claims closing)
 * changes rows, not the tombstone, which must not be sent again for nothing.
 */
export const isNewsForFeeds = (change: SubjectChange): boolean => change.isVisible && change.view.ledger.erasure === undefined;

/** When the subject's rows next change on their own: the earliest expiry of a decision (of any of its brands) or a membership. */
export function nextChangeOf(view: SubjectView): Instant | null {
  return earliest(...view.expiries.values(), ...[...view.audiences.values()].map((row) => row.validUntil ?? undefined)) ?? null;
}

/** The purposes in either set; `all` when either is. */
function either(one: 'all' | Set<PurposeDefinition>, other: 'all' | Set<PurposeDefinition>): 'all' | Set<PurposeDefinition> {
  return one === 'all' || other === 'all' ? 'all' : new Set([...one, ...other]);
}
