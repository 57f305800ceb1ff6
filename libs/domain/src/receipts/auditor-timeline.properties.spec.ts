import fc from 'fast-check';
import type { Catalogue } from '../catalogue/catalogue';
import { mayProcess } from '../decisions/may-process';
import type { LedgerEvent, RecordedLedgerEvent } from '../ledger/events';
import { type AsOf, ledgerAsOf } from '../ledger/ledger';
import { catalogue, choiceAt, recorded, relationshipEnded, relationshipStarted, subjectErased } from '../testing';
import type { Instant, PurposeId } from '../vocabulary';
import { auditorTimeline, type DecisionSummary } from './auditor-timeline';
import { decisionOf } from './consent-receipt';

const DAY = 86_400_000;
const dayOf = (day: number) => new Date(Date.UTC(2024, 0, 1) + day * DAY).toISOString();

/** Choices over a few weeks, some recorded days late, some with the channel's clock ahead of the ledger's. */
const timelineHistories = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: -2, max: 4 }), fc.nat(9)).chain(([day, lateBy, kind]) => {
    const occurredAt = dayOf(day);
    const recordedAt = dayOf(day + lateBy);
    const rare: fc.Arbitrary<LedgerEvent> = fc.oneof(
      fc.constant(subjectErased({ occurredAt, recordedAt })),
      fc.constantFrom('customer' as const, 'prospect' as const).map((relationship) => relationshipStarted({ relationship, occurredAt, recordedAt })),
      fc.constant(relationshipEnded({ occurredAt, recordedAt })),
    );
    return kind === 0 ? rare : choiceAt(occurredAt).map((event) => ({ ...event, data: { ...event.data, capture: { ...event.data.capture, recordedAt } } }) as LedgerEvent);
  }),
  { maxLength: 25 },
);

/** The timeline as it was first written: every step folds the history again for each answer. */
function timelineStepByStep(history: readonly RecordedLedgerEvent[], terms: Catalogue) {
  const lateAfterMs = 5 * 60_000;
  let latestOccurred: Instant | undefined;
  return history.map((event, index) => {
    const { occurredAt, recordedAt } = event.data.capture;
    const brand = event.data.brand;
    const at = occurredAt > recordedAt ? occurredAt : recordedAt;
    const late = Date.parse(recordedAt) - Date.parse(occurredAt) > lateAfterMs;
    const outOfOrder = latestOccurred !== undefined && occurredAt < latestOccurred;
    if (latestOccurred === undefined || occurredAt > latestOccurred) latestOccurred = occurredAt;
    const decide = (events: readonly RecordedLedgerEvent[], purpose: PurposeId, asOf: AsOf & { at: Instant }): DecisionSummary => {
      const decision = mayProcess(ledgerAsOf(events, asOf), terms, { purpose, brand, at: asOf.at });
      return { allowed: decision.allowed, reason: decision.reason, basedOn: decision.basedOn.map((ref) => ref.eventId) };
    };
    const without = history.filter((other) => other.eventId !== event.eventId);
    const touched = ['RelationshipStarted', 'RelationshipEnded', 'SubjectErased'].includes(event.type)
      ? [...terms.purposes.keys()].filter((purpose) => decide(history, purpose, { at }).reason !== decide(without, purpose, { at }).reason)
      : undefined;
    return {
      decision: decisionOf(event, history, terms),
      touched,
      answers: (purpose: PurposeId) => ({
        asChosen: decide(history, purpose, { at }),
        asKnown: decide(history.slice(0, index + 1), purpose, { at }),
        ...((late || outOfOrder) && {
          whenExpressed: { asChosen: decide(history, purpose, { at: occurredAt }), asKnown: decide(history, purpose, { at: occurredAt, knownAt: occurredAt }) },
        }),
      }),
    };
  });
}

describe('the auditor timeline, for any history', () => {
  it('answers each step as folding the history again for it would', () =>
    fc.assert(
      fc.property(timelineHistories, (events) => {
        const history = recorded(events);
        const steps = auditorTimeline(history, catalogue);
        const reference = timelineStepByStep(history, catalogue);
        steps.forEach((step, index) => {
          expect(step.decision).toBe(reference[index].decision);
          if (reference[index].touched) expect(step.purposes.map((each) => each.purpose)).toEqual(reference[index].touched);
          for (const { purpose, asChosen, asKnown, whenExpressed } of step.purposes) {
            expect({ asChosen, asKnown, ...(whenExpressed && { whenExpressed }) }).toEqual(reference[index].answers(purpose));
          }
        });
      }),
      { numRuns: 300 },
    ));
});
