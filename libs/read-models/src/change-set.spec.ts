import fc from 'fast-check';
import { BRANDS, earliest, type Instant, type LedgerEvent, loadCatalogue, type SubjectId } from '@consent-ledger/domain';
import {
  catalogue,
  channelRestricted,
  consentGiven,
  histories,
  instant,
  objectionRaised,
  relationshipEnded,
  relationshipStarted,
  sourceOptedOut,
  subjectErased,
} from '@consent-ledger/domain/testing';
import type { StoredEvent } from '@consent-ledger/event-store';
import { type ChangeSet, isNewsForFeeds, planEvents, planReevaluation } from './change-set';
import { decisionRowsOf, type DecisionRow, defaultDecisionRowsOf } from './current-decisions/current-decisions.projection';
import { decisionBrandsOf, type SubjectView } from './subject-ledger/subject-view';
import { project, reevaluated } from './testing/project';
import { asStored } from './testing/stored-events';

const viewsOf = (changes: ChangeSet, before = new Map<string, SubjectView>()) =>
  new Map([...before, ...changes.subjects.map((change) => [change.view.subjectId, change.view] as const)]);

/** Two subjects' histories interleaved into one log. */
const twoSubjectLogs = fc
  .tuple(histories(12), histories(12))
  .map(([first, second]) => {
    const of = (subjectId: string) => (event: LedgerEvent) => ({ ...event, data: { ...event.data, subjectId: subjectId as SubjectId } }) as LedgerEvent;
    const log: LedgerEvent[] = [];
    const a = first.map(of('subject-a'));
    const b = second.map(of('subject-b'));
    while (a.length + b.length > 0) log.push(...a.splice(0, 2), ...b.splice(0, 1));
    return asStored(log);
  });

describe('planning a batch of events', () => {
  it('changes nothing when the same events are delivered again', () =>
    fc.assert(
      fc.property(twoSubjectLogs, (log) => {
        const once = planEvents(0n, new Map(), log, catalogue);
        const again = planEvents(0n, viewsOf(once), log, catalogue);
        expect(again.subjects).toEqual([]);
      }),
      { numRuns: 50 },
    ));

  it('gives the same views whether the log is applied in one batch or event by event', () =>
    fc.assert(
      fc.property(twoSubjectLogs, (log) => {
        const whole = viewsOf(planEvents(0n, new Map(), log, catalogue));
        let views = new Map<string, SubjectView>();
        let checkpoint = 0n;
        for (const event of log) {
          const changes = planEvents(checkpoint, views, [event], catalogue);
          views = viewsOf(changes, views);
          checkpoint = changes.checkpoint;
        }
        expect(views).toEqual(whole);
      }),
      { numRuns: 50 },
    ));

  it('starts a subject whose record was removed afresh when it comes back, keeping nothing of the removed history', () => {
    const removedHistory = asStored([relationshipStarted({ occurredAt: '2010-01-01T00:00:00Z' }), consentGiven({ purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], occurredAt: '2010-02-01T00:00:00Z' })]);
    const before = viewsOf(planEvents(0n, new Map(), removedHistory, catalogue));
    // Proof retention removed the stream; the subject's next stream starts at revision 0 again.
    const cameBack = asStored([relationshipStarted({ occurredAt: '2024-05-01T09:00:00Z' })], { after: 100n });

    const [{ view }] = planEvents(2n, before, cameBack, catalogue).subjects;
    expect(view).toEqual([...viewsOf(planEvents(0n, new Map(), cameBack, catalogue)).values()][0]);
    expect(view.ledger.consents.size).toBe(0);
  });

  it('passes over events at or below the checkpoint', () => {
    const log = asStored([relationshipStarted(), channelRestricted({ channel: 'sms' })]);
    const changes = planEvents(2n, new Map(), log, catalogue);
    expect(changes).toEqual({ checkpoint: 2n, subjects: [], unreadable: [] });
  });

  it('advances the checkpoint past events of other streams without projecting them', () => {
    const other: StoredEvent = { ...asStored([relationshipStarted()])[0], streamName: 'idempotency-keys', type: 'KeyUsed' };
    expect(planEvents(0n, new Map(), [other], catalogue)).toEqual({ checkpoint: 1n, subjects: [], unreadable: [] });
  });

  it('passes over a ledger event of a schema version it cannot read, and reports it', () => {
    const newer: StoredEvent = { ...asStored([relationshipStarted()])[0], schemaVersion: 2 };
    const changes = planEvents(0n, new Map(), [newer], catalogue);
    expect(changes.checkpoint).toBe(1n);
    expect(changes.subjects).toEqual([]);
    expect(changes.unreadable).toEqual(['RelationshipStarted schema version 2 at position 1']);
  });

  it('writes a new subject only where its decisions differ from those of a subject with no history', () => {
    const started = planEvents(0n, new Map(), asStored([relationshipStarted()]), catalogue);
    const [change] = started.subjects;
    const defaults = new Map(defaultDecisionRowsOf(change.view, catalogue).map((row) => [row.purpose, JSON.stringify(row)]));
    const differing = decisionRowsOf(change.view, catalogue).filter((row) => defaults.get(row.purpose) !== JSON.stringify(row));
    expect(change.decisions).toEqual(differing);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.length).toBeLessThan(catalogue.purposes.size);
  });

  it('writes only the decision rows an event changed', () => {
    const started = planEvents(0n, new Map(), asStored([relationshipStarted()]), catalogue);

    const restricted = planEvents(1n, viewsOf(started), asStored([channelRestricted({ channel: 'tv-screen', occurredAt: '2024-06-01T09:00:00Z' })], { after: 1n, revisions: new Map([['subject-1', 0]]) }), catalogue);
    const purposes = restricted.subjects[0].decisions.map((row) => row.purpose);
    expect(purposes.length).toBeGreaterThan(0);
    expect(purposes.length).toBeLessThan(10);
    expect(restricted.subjects[0].decisions.every((row) => row.restrictedChannels.includes('tv-screen'))).toBe(true);
  });
});

// Found in review: an erased subject kept the expiry of a consent its erasure had stopped, and the
// sweep sent its tombstones again when that instant came.
describe('time passing after an erasure', () => {
  const PICKX = 'targeted-tv-advertising-pickx';
  const erasedAfterAConsent = (consent: Partial<Parameters<typeof consentGiven>[0]> = {}) => [
    relationshipStarted(),
    consentGiven({ purpose: PICKX, channels: ['tv-screen'], occurredAt: '2025-03-01T00:00:00Z', ...consent }),
    subjectErased({ occurredAt: '2025-04-01T00:00:00Z' }),
  ];
  const pickxRow = (change: ChangeSet['subjects'][number]) => decisionRowsOf(change.view, catalogue).find((row) => row.purpose === PICKX);

  it('leaves nothing pending from a consent the erasure stopped, though it would have expired', () => {
    const [change] = project(erasedAfterAConsent({ expiresAt: instant('2027-01-01T00:00:00Z') })).changes.subjects;
    expect(change.nextChangeAt).toBeNull();
    expect(change.view.expiries.size).toBe(0);
    expect(pickxRow(change)).toMatchObject({ allowed: false, reason: 'subject-erased', consentedChannels: [], changesAt: null });
  });

  it('leaves nothing pending from a consent the erasure stopped, though its notice changes later', () => {
    const changedAt = '2027-01-01T00:00:00.000Z';
    const changed = loadCatalogue({
      ...catalogue.definition,
      purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === PICKX ? { ...purpose, noticeChangedAt: changedAt } : purpose)),
    });
    const [change] = project(erasedAfterAConsent(), changed).changes.subjects;
    expect(change.nextChangeAt).toBeNull();
  });

  // Billing records and legal claims outlive an erasure, within windows counted from the end of the
  // contract (art. 17(3)(b), (e)); the rows say when they close, but the topics hold a tombstone.
  it('still changes the rows erasure exceptions decide when their windows close, with nothing for the topics', () => {
    const ended = [relationshipStarted(), relationshipEnded({ occurredAt: '2024-06-01T09:00:00Z' }), subjectErased({ occurredAt: '2025-07-01T00:00:00Z' })];
    const [erased] = project(ended).changes.subjects;
    expect(erased.nextChangeAt).toBe('2031-06-01T09:00:00.000Z');

    const { view, changes } = reevaluated(erased.view, '2031-06-01T09:00:30Z');
    const [closed] = changes.subjects;
    expect(decisionRowsOf(view, catalogue).find((row) => row.purpose === 'billing-accounting')).toMatchObject({ allowed: false, reason: 'retention-window-ended' });
    expect(closed.isVisible).toBe(true);
    expect(isNewsForFeeds(closed)).toBe(false);
    expect(closed.nextChangeAt).toBe('2034-06-01T09:00:00.000Z');
  });
});

// Found in review: the state topic speaks for every brand the subject has a relationship with,
// but only the subject's own brand was swept, so a former Scarlet customer who is a Proximus
// customer kept Scarlet's direct-marketing window open on the topic for good.
describe('time passing for a customer of two brands', () => {
  const twoBrands = [
    relationshipStarted({ brand: 'scarlet' }),
    relationshipEnded({ brand: 'scarlet', occurredAt: '2024-06-01T09:00:00Z' }),
    relationshipStarted({ brand: 'proximus', occurredAt: '2024-07-01T09:00:00Z' }),
  ];
  const scarletWinBack = (view: SubjectView) => decisionRowsOf({ ...view, brand: 'scarlet' }, catalogue).find((row) => row.purpose === 'former-customer-winback');

  it('looks at the subject again when the other brand\'s windows close, and has the feeds publish it', () => {
    const [change] = project(twoBrands).changes.subjects;
    expect(change.view.brand).toBe('proximus');
    // Scarlet keeps the subscriber's identification a year after the contract (telecom law).
    expect(change.nextChangeAt).toBe('2025-06-01T09:00:00.000Z');

    const [afterAYear] = reevaluated(change.view, '2025-06-01T09:00:30Z').changes.subjects;
    expect(isNewsForFeeds(afterAYear)).toBe(true);
    expect(afterAYear.nextChangeAt).toBe('2029-06-01T09:00:00.000Z');
    expect(scarletWinBack(afterAYear.view)).toMatchObject({ allowed: true });

    const [afterFiveYears] = reevaluated(afterAYear.view, '2029-06-01T09:00:30Z').changes.subjects;
    expect(scarletWinBack(afterFiveYears.view)).toMatchObject({ allowed: false });
    expect(afterFiveYears.decisions).toContainEqual(expect.objectContaining({ brand: 'scarlet', purpose: 'former-customer-winback', allowed: false, reason: 'retention-window-ended' }));
    expect(afterFiveYears.decisions.every((row) => row.brand === 'scarlet')).toBe(true);
    expect(isNewsForFeeds(afterFiveYears)).toBe(true);
    expect(afterFiveYears.nextChangeAt).toBe('2031-06-01T09:00:00.000Z');
  });
});

describe('planning a batch with an event the projection cannot handle', () => {
  it('passes over a malformed event (a consent without channels), reports it, and keeps going', () => {
    const malformed = { type: 'ConsentGiven', data: { ...relationshipStarted().data, purpose: 'targeted-tv-advertising-pickx' } } as unknown as LedgerEvent;
    const log = asStored([relationshipStarted(), malformed, channelRestricted({ channel: 'sms', occurredAt: '2024-06-01T09:00:00Z' })]);
    const changes = planEvents(0n, new Map(), log, catalogue);
    expect(changes.checkpoint).toBe(3n);
    expect(changes.unreadable).toEqual([expect.stringContaining('ConsentGiven at position 2')]);
    expect(changes.subjects[0].view.lastPosition).toBe(3n);
  });
});

describe('re-evaluating only the purposes an event touches', () => {
  const DAY = 86_400_000;
  const at = (day: number) => new Date(Date.UTC(2024, 0, 1) + day * DAY).toISOString();
  const PURPOSES = ['targeted-tv-advertising-pickx', 'direct-marketing-customers-phone-email', 'former-customer-consent-renewal-campaign', 'customer-profiling-consent-based'];
  type Step = { kind: 'event'; event: LedgerEvent } | { kind: 'sweep'; day: number };
  const step = (day: number): fc.Arbitrary<Step> =>
    fc.oneof(
      fc.record({ purpose: fc.constantFrom(...PURPOSES), lasts: fc.option(fc.integer({ min: 1, max: 60 })), brand: fc.constantFrom(...BRANDS) }).map(({ purpose, lasts, brand }) => ({
        kind: 'event' as const,
        event: consentGiven({
          purpose,
          brand,
          occurredAt: at(day),
          channels: purpose === 'targeted-tv-advertising-pickx' ? ['tv-screen'] : [],
          ...(lasts !== null && { expiresAt: at(day + lasts) as never }),
        }),
      })),
      fc.constantFrom(...PURPOSES).map((purpose) => ({ kind: 'event' as const, event: { ...channelRestricted({ occurredAt: at(day), channel: 'sms' }), type: 'ConsentWithdrawn', data: { ...channelRestricted({ occurredAt: at(day), channel: 'sms' }).data, purpose } } as unknown as LedgerEvent })),
      fc.constantFrom('sms', 'tv-screen', 'email').map((channel) => ({ kind: 'event' as const, event: channelRestricted({ channel: channel as 'sms', occurredAt: at(day) }) })),
      fc.record({ target: fc.constantFrom('direct-marketing', 'targeted-tv-advertising-pickx'), brand: fc.constantFrom(...BRANDS) }).map(({ target, brand }) => ({ kind: 'event' as const, event: objectionRaised({ target, brand, occurredAt: at(day) }) })),
      fc.constant({ kind: 'event' as const, event: sourceOptedOut({ source: 'tv-viewing', occurredAt: at(day) }) }),
      fc.constantFrom('proximus', 'scarlet').map((brand) => ({ kind: 'event' as const, event: relationshipStarted({ brand, occurredAt: at(day) }) })),
      fc.constantFrom('proximus', 'scarlet').map((brand) => ({ kind: 'event' as const, event: relationshipEnded({ brand, occurredAt: at(day) }) })),
      fc.constant({ kind: 'sweep' as const, day }),
    );
  const stories = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 25 }).chain((gaps) => {
    let day = 0;
    return fc.tuple(...gaps.map((gap) => step((day += gap))));
  });

  it('leaves the same rows and the same next change as evaluating every purpose', () =>
    fc.assert(
      fc.property(stories, (steps) => {
        let view: SubjectView | null = null;
        const table = new Map<string, DecisionRow>();
        const keyOf = (row: DecisionRow) => `${row.brand}|${row.purpose}`;
        let position = 0n;
        for (const current of steps) {
          let changes: ChangeSet;
          if (current.kind === 'sweep') {
            if (!view) continue;
            changes = planReevaluation(position, [view], at(current.day) as Instant, catalogue);
          } else {
            const [stored] = asStored([current.event], { after: position, revisions: new Map(view ? [[view.subjectId, view.ledger.revision]] : []) });
            changes = planEvents(position, new Map(view ? [[view.subjectId, view]] : []), [stored], catalogue);
            position = stored.position;
          }
          for (const change of changes.subjects) {
            for (const row of change.decisions) table.set(keyOf(row), row);
            view = change.view;
            expect(change.nextChangeAt).toBe(nextChangeOfEveryRow(change.view));
          }
        }
        if (!view) return;
        // No row for a brand and purpose means the decision of a subject with no history; the
        // subject has rows for each brand it dealt with, and none for any other.
        const brands = decisionBrandsOf(view).map((brand) => ({ ...view!, brand }));
        const stored = new Map([...brands.flatMap((each) => defaultDecisionRowsOf(each, catalogue)).map((row): [string, DecisionRow] => [keyOf(row), row]), ...table]);
        expect(new Map(brands.flatMap((each) => decisionRowsOf(each, catalogue)).map((row) => [keyOf(row), row]))).toEqual(stored);
      }),
      { numRuns: 300 },
    ));
});

/** When the subject's rows next change, from every purpose of the catalogue for each of its brands, and every membership. */
function nextChangeOfEveryRow(view: SubjectView): Instant | null {
  const brands = decisionBrandsOf(view);
  const rows = brands.flatMap((brand) => decisionRowsOf({ ...view, brand }, catalogue)).map((row) => row.changesAt ?? undefined);
  const memberships = [...view.audiences.values()].map((row) => row.validUntil ?? undefined);
  return earliest(...rows, ...memberships) ?? null;
}
