import fc from 'fast-check';
import { BRANDS, type Instant, type LedgerEvent } from '@consent-ledger/domain';
import { catalogue, histories, relationshipEnded, relationshipStarted } from '@consent-ledger/domain/testing';
import { type ChangeSet, type SubjectView } from '@consent-ledger/read-models';
import { planEvents, planReevaluation } from '../../../../libs/read-models/src/change-set';
import { asStored } from '../../../../libs/read-models/src/testing/stored-events';
import { CommittedViews } from './committed-views';
import { stateMessageOf } from './state-message';

const cause = { messageId: 'event-1', causationId: 'event-1' };

/** Applies events one transaction at a time, a sweep after every third, telling `committed` every change. */
function follow(events: readonly LedgerEvent[], committed: CommittedViews): SubjectView | undefined {
  let view: SubjectView | undefined;
  let position = 0n;
  const told = (changes: ChangeSet) => {
    committed.remember(changes);
    view = changes.subjects[0]?.view ?? view;
  };
  for (const [index, event] of events.entries()) {
    const [stored] = asStored([event], { after: position, revisions: new Map(view ? [[view.subjectId, view.ledger.revision]] : []) });
    told(planEvents(position, new Map(view ? [[view.subjectId, view]] : []), [stored], catalogue));
    position = stored.position;
    const later = new Date(Date.parse(view!.evaluatedAt) + 400 * 86_400_000).toISOString() as Instant;
    if (index % 3 === 2) told(planReevaluation(position, [view!], later, catalogue));
  }
  return view;
}

describe('state messages from committed decisions', () => {
  it('are the same JSON as evaluating every purpose again', () =>
    fc.assert(
      fc.property(histories(15), (events) => {
        const committed = new CommittedViews(catalogue);
        const view = follow([relationshipStarted(), ...events, relationshipEnded({ occurredAt: '2025-06-01T00:00:00Z' })], committed);
        const purposesJson = committed.purposesJson(view!);
        expect(purposesJson).toBeDefined();
        expect(stateMessageOf(view!, catalogue, cause, purposesJson).value).toBe(stateMessageOf(view!, catalogue, cause).value);
      }),
      { numRuns: 100 },
    ));

  // The rows of a customer of both brands are written for each brand; the state message speaks for one.
  it('are the same JSON as evaluating every purpose again for a subject of both brands', () =>
    fc.assert(
      fc.property(histories(15), fc.array(fc.constantFrom(...BRANDS), { minLength: 17, maxLength: 17 }), (events, brands) => {
        const committed = new CommittedViews(catalogue);
        const withBrands = [relationshipStarted(), ...events, relationshipEnded({ occurredAt: '2025-06-01T00:00:00Z' })].map(
          (event, i) => ({ ...event, data: { ...event.data, brand: brands[i] } }) as LedgerEvent,
        );
        const view = follow(withBrands, committed);
        const purposesJson = committed.purposesJson(view!);
        if (purposesJson !== undefined) expect(stateMessageOf(view!, catalogue, cause, purposesJson).value).toBe(stateMessageOf(view!, catalogue, cause).value);
      }),
      { numRuns: 100 },
    ));

  it('are not used for a view the cache did not see being made', () => {
    const committed = new CommittedViews(catalogue);
    const elsewhere = new CommittedViews(catalogue);
    const view = follow([relationshipStarted()], elsewhere);
    expect(committed.purposesJson(view!)).toBeUndefined();
  });
});
