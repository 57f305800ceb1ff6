import type { Brand, Catalogue, Instant, PurposeId } from '@consent-ledger/domain';
import type { GlobalPosition } from '@consent-ledger/event-store';
import { type ChangeSet, type DecisionRow, defaultDecisionRowsOf, type SubjectChange, type SubjectView } from '@consent-ledger/read-models';

interface Fragments {
  readonly lastPosition: GlobalPosition;
  readonly evaluatedAt: Instant;
  /** The brand the entries are for: the view's, which the state message speaks for. */
  readonly brand: Brand;
  /** Each purpose's entry of the preferences' `purposes` list, as JSON. */
  readonly byPurpose: Map<PurposeId, string>;
}

/**
 * What the read models just committed, kept for the feed when both run in one process: the views
 * themselves (no reading them back from the database) and, per subject, each purpose's decision as
 * JSON, patched with the rows a change wrote. The state message then costs the purposes a change
 * touched, not a `mayProcess` for every purpose of the catalogue. Anything not known exactly
 * (another process committed, a cache miss) is left out, and the feed reads and evaluates instead.
 */
export class CommittedViews {
  private readonly views = new Map<string, SubjectView>();
  private readonly fragments = new Map<string, Fragments>();

  constructor(
    private readonly catalogue: Catalogue,
    private readonly capacity = 20_000,
  ) {}

  remember(changes: ChangeSet): void {
    for (const change of changes.subjects) {
      this.views.set(change.view.subjectId, change.view);
      this.patch(change);
    }
    if (this.views.size > this.capacity) this.views.clear();
  }

  /** The committed view of the subject, if it is at least as far as `position`. */
  view(subjectId: string, position: GlobalPosition): SubjectView | undefined {
    const view = this.views.get(subjectId);
    return view && view.lastPosition >= position ? view : undefined;
  }

  /** Forgets views the feed has published past. */
  publishedUpTo(position: GlobalPosition): void {
    for (const [subjectId, view] of this.views) if (view.lastPosition <= position) this.views.delete(subjectId);
  }

  /** The `purposes` list of the subject's preferences as JSON, when known for exactly this view. */
  purposesJson(view: SubjectView): string | undefined {
    const known = this.fragments.get(view.subjectId);
    if (!known || known.lastPosition !== view.lastPosition || known.evaluatedAt !== view.evaluatedAt || known.brand !== view.brand) return undefined;
    const entries: string[] = [];
    for (const purpose of this.catalogue.purposes.keys()) {
      const entry = known.byPurpose.get(purpose);
      if (entry === undefined) return undefined;
      entries.push(entry);
    }
    return `[${entries.join(',')}]`;
  }

  private patch({ view, previous, decisions }: SubjectChange): void {
    const subjectId = view.subjectId;
    const known = this.fragments.get(subjectId);
    this.fragments.delete(subjectId);
    // A new subject's change holds the rows that differ from a subject with no history; any other
    // change only the rows it wrote, which patch the fragments of exactly the view it was made on,
    // for the same brand (the rows of its other brands are written too, and are not the message's).
    const matches =
      previous !== null && known !== undefined && known.lastPosition === previous.lastPosition && known.evaluatedAt === previous.evaluatedAt && known.brand === view.brand;
    if (previous !== null && !matches) return;
    const byPurpose = matches
      ? known!.byPurpose
      : new Map<PurposeId, string>(defaultDecisionRowsOf(view, this.catalogue).map((row) => [row.purpose, entryOf(row)]));
    for (const row of decisions) if (row.brand === view.brand) byPurpose.set(row.purpose, entryOf(row));
    if (byPurpose.size !== this.catalogue.purposes.size) return;
    this.fragments.set(subjectId, { lastPosition: view.lastPosition, evaluatedAt: view.evaluatedAt, brand: view.brand, byPurpose });
    if (this.fragments.size > this.capacity) this.fragments.delete(this.fragments.keys().next().value!);
  }
}

/** The preferences' entry for one purpose: `{ purpose, ...mayProcess(...) }`, in that key order. */
function entryOf(row: DecisionRow): string {
  return JSON.stringify({
    purpose: row.purpose,
    allowed: row.allowed,
    reason: row.reason,
    legalBasis: row.legalBasis,
    basedOn: row.basedOn,
    validUntil: row.validUntil,
    ...(row.channels !== null && { channels: row.channels }),
  });
}
