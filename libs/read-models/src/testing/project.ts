import type { Catalogue, Instant, LedgerEvent } from '@consent-ledger/domain';
import { catalogue as operatorCatalogue } from '@consent-ledger/domain/testing';
import { type ChangeSet, planEvents, planReevaluation } from '../change-set';
import type { SubjectView } from '../subject-ledger/subject-view';
import { asStored } from './stored-events';

/** Folds events through the pure projections, as the runner would in one batch. */
export function project(events: readonly LedgerEvent[], catalogue: Catalogue = operatorCatalogue): { views: Map<string, SubjectView>; changes: ChangeSet } {
  const changes = planEvents(0n, new Map(), asStored(events), catalogue);
  return { views: new Map(changes.subjects.map((change) => [change.view.subjectId, change.view])), changes };
}

/** The one subject's view after `events`. */
export function viewAfter(events: readonly LedgerEvent[], catalogue: Catalogue = operatorCatalogue): SubjectView {
  const [view] = project(events, catalogue).views.values();
  return view;
}

/** The same view looked at again at `now` by the time sweep. */
export function reevaluated(view: SubjectView, now: string, catalogue: Catalogue = operatorCatalogue): { view: SubjectView; changes: ChangeSet } {
  const changes = planReevaluation(view.lastPosition, [view], new Date(now).toISOString() as Instant, catalogue);
  return { view: changes.subjects[0]?.view ?? view, changes };
}
