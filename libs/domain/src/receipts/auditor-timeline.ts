import type { Catalogue } from '../catalogue/catalogue';
import { mayProcess } from '../decisions/may-process';
import type { RecordedLedgerEvent } from '../ledger/events';
import { type AsOf, ledgerAsOf } from '../ledger/ledger';
import type { Actor, Brand, DecisionReason, Instant, PurposeId, Touchpoint } from '../vocabulary';
import { type CollectionMethod, decisionOf, methodOf, type ReceiptDecision } from './consent-receipt';
import { describeChange } from './describe-change';
import { purposesOfEvent } from './purposes-of-event';

/**
 * The auditor timeline (ADR 0001): the subject's events in the order the ledger learned them,
 * and for each purpose a step touched, the decision as the person had chosen (everything known
 * today) next to the decision as the system knew it then. A late event also shows what the system
 * answered when the person actually made the choice.
 */
export interface DecisionSummary {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly basedOn: readonly string[];
}

export interface TimelinePurpose {
  readonly purpose: PurposeId;
  /** At the step's instant, with every choice recorded since: what the person had chosen. */
  readonly asChosen: DecisionSummary;
  /** At the step's instant, with only the events recorded up to this step: what the system answered. */
  readonly asKnown: DecisionSummary;
  readonly differs: boolean;
  /** Late events only: the same two answers at the instant the person made the choice. */
  readonly whenExpressed?: { readonly asChosen: DecisionSummary; readonly asKnown: DecisionSummary };
}

export interface TimelineStep {
  readonly eventId: string;
  readonly revision: number;
  readonly decision: ReceiptDecision;
  readonly change: string;
  readonly occurredAt: Instant;
  readonly recordedAt: Instant;
  readonly touchpoint: Touchpoint;
  readonly actor: Actor;
  readonly method: CollectionMethod;
  /** Recorded more than `lateAfterMs` after the person expressed it. */
  readonly late: boolean;
  readonly lateByMs: number;
  /** Expressed before a choice the ledger had already recorded. */
  readonly outOfOrder: boolean;
  readonly purposes: readonly TimelinePurpose[];
}

export interface TimelineOptions {
  /** Shop paperwork and overnight batches are late; a few minutes of channel latency is not. Default 5 minutes. */
  readonly lateAfterMs?: number;
  readonly brand?: Brand;
}

export function auditorTimeline(history: readonly RecordedLedgerEvent[], catalogue: Catalogue, options: TimelineOptions = {}): TimelineStep[] {
  const { lateAfterMs = 5 * 60_000 } = options;
  let latestOccurred: Instant | undefined;
  return history.map((event, index) => {
    const { occurredAt, recordedAt, touchpoint, actor } = event.data.capture;
    const brand = options.brand ?? event.data.brand;
    const at = occurredAt > recordedAt ? occurredAt : recordedAt;
    const lateByMs = Date.parse(recordedAt) - Date.parse(occurredAt);
    const late = lateByMs > lateAfterMs;
    const outOfOrder = latestOccurred !== undefined && occurredAt < latestOccurred;
    if (latestOccurred === undefined || occurredAt > latestOccurred) latestOccurred = occurredAt;

    const decide = (events: readonly RecordedLedgerEvent[], purpose: PurposeId, asOf: AsOf & { at: Instant }): DecisionSummary => {
      const decision = mayProcess(ledgerAsOf(events, asOf), catalogue, { purpose, brand, at: asOf.at });
      return { allowed: decision.allowed, reason: decision.reason, basedOn: decision.basedOn.map((ref) => ref.eventId) };
    };
    const named = purposesOfEvent(event, catalogue);
    // Relationship events and erasure name no purpose: show the purposes whose answer they changed.
    const without = history.filter((other) => other.eventId !== event.eventId);
    const touched =
      named.length > 0
        ? named
        : [...catalogue.purposes.keys()].filter((purpose) => decide(history, purpose, { at }).reason !== decide(without, purpose, { at }).reason);

    return {
      eventId: event.eventId,
      revision: event.revision,
      decision: decisionOf(event, history, catalogue),
      change: describeChange(event),
      occurredAt,
      recordedAt,
      touchpoint,
      actor,
      method: methodOf(actor, touchpoint),
      late,
      lateByMs,
      outOfOrder,
      purposes: touched
        .filter((purpose) => catalogue.purposes.has(purpose))
        .map((purpose) => {
          const asChosen = decide(history, purpose, { at });
          const asKnown = decide(history.slice(0, index + 1), purpose, { at });
          return {
            purpose,
            asChosen,
            asKnown,
            differs: !sameAnswer(asChosen, asKnown),
            ...((late || outOfOrder) && {
              whenExpressed: { asChosen: decide(history, purpose, { at: occurredAt }), asKnown: decide(history, purpose, { at: occurredAt, knownAt: occurredAt }) },
            }),
          };
        }),
    };
  });
}

const sameAnswer = (a: DecisionSummary, b: DecisionSummary) => a.allowed === b.allowed && a.reason === b.reason;
