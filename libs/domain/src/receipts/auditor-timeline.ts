import type { Catalogue } from '../catalogue/catalogue';
import { mayProcess } from '../decisions/may-process';
import type { RecordedLedgerEvent } from '../ledger/events';
import { type AsOf, evolve, initialLedger, type Ledger, ledgerAsOf } from '../ledger/ledger';
import type { Actor, Brand, DecisionReason, Instant, PurposeId, Touchpoint } from '../vocabulary';
import { type CollectionMethod, decisionsOf, methodOf, type ReceiptDecision } from './consent-receipt';
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
  const decisions = decisionsOf(history, catalogue);
  const ledgerOf = ledgersAsOf(history);
  let latestOccurred: Instant | undefined;
  return history.map((event, index) => {
    const { occurredAt, recordedAt, touchpoint, actor } = event.data.capture;
    const brand = options.brand ?? event.data.brand;
    const at = occurredAt > recordedAt ? occurredAt : recordedAt;
    const lateByMs = Date.parse(recordedAt) - Date.parse(occurredAt);
    const late = lateByMs > lateAfterMs;
    const outOfOrder = latestOccurred !== undefined && occurredAt < latestOccurred;
    if (latestOccurred === undefined || occurredAt > latestOccurred) latestOccurred = occurredAt;

    const decide = (ledger: Ledger, purpose: PurposeId, asOf: AsOf & { at: Instant }): DecisionSummary => {
      const decision = mayProcess(ledger, catalogue, { purpose, brand, at: asOf.at });
      return { allowed: decision.allowed, reason: decision.reason, basedOn: decision.basedOn.map((ref) => ref.eventId) };
    };
    const asChosen = ledgerOf({ at });
    const named = purposesOfEvent(event, catalogue);
    // Relationship events and erasure name no purpose: show the purposes whose answer they changed.
    const touched = named.length > 0 ? named : purposesChangedBy(event, history, catalogue, at, asChosen, (ledger, purpose) => decide(ledger, purpose, { at }).reason);
    const asKnown = ledgerOf({ at }, index + 1);
    const whenExpressed = late || outOfOrder ? { asChosen: ledgerOf({ at: occurredAt }), asKnown: ledgerOf({ at: occurredAt, knownAt: occurredAt }) } : undefined;

    return {
      eventId: event.eventId,
      revision: event.revision,
      decision: decisions[index],
      change: describeChange(event, catalogue),
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
          const chosen = decide(asChosen, purpose, { at });
          const known = decide(asKnown, purpose, { at });
          return {
            purpose,
            asChosen: chosen,
            asKnown: known,
            differs: !sameAnswer(chosen, known),
            ...(whenExpressed && {
              whenExpressed: { asChosen: decide(whenExpressed.asChosen, purpose, { at: occurredAt }), asKnown: decide(whenExpressed.asKnown, purpose, { at: occurredAt, knownAt: occurredAt }) },
            }),
          };
        }),
    };
  });
}

/** The catalogue's purposes whose answer at `at` differs with and without `event` in the history (`withIt`: the ledger as of `at`). */
function purposesChangedBy(
  event: RecordedLedgerEvent,
  history: readonly RecordedLedgerEvent[],
  catalogue: Catalogue,
  at: Instant,
  withIt: Ledger,
  reasonOf: (ledger: Ledger, purpose: PurposeId) => string,
): PurposeId[] {
  const withoutIt = ledgerAsOf(
    history.filter((other) => other.eventId !== event.eventId),
    { at },
  );
  return [...catalogue.purposes.keys()].filter((purpose) => reasonOf(withIt, purpose) !== reasonOf(withoutIt, purpose));
}

/**
 * The ledger `ledgerAsOf(history.slice(0, upTo), asOf)` gives, taken from the folds of the
 * history's prefixes whenever the events it keeps are a prefix (a history recorded in the order
 * the choices were made, the usual case), so a timeline step costs no fold of its own; otherwise
 * (late or future-dated events in the way) folded as `ledgerAsOf` does. Either way the same events
 * are folded in the same order.
 */
function ledgersAsOf(history: readonly RecordedLedgerEvent[]): (asOf: AsOf & { at: Instant }, upTo?: number) => Ledger {
  const prefixes: Ledger[] = [initialLedger()];
  const latestOccurred: string[] = [''];
  const latestRecorded: string[] = [''];
  history.forEach((event, index) => {
    const { occurredAt, recordedAt } = event.data.capture;
    prefixes.push(evolve(prefixes[index], event));
    latestOccurred.push(occurredAt > latestOccurred[index] ? occurredAt : latestOccurred[index]);
    latestRecorded.push(recordedAt > latestRecorded[index] ? recordedAt : latestRecorded[index]);
  });
  const occurred = history.map((event) => event.data.capture.occurredAt).sort();
  const countOccurredBy = (instant: Instant): number => {
    let low = 0;
    let high = occurred.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (occurred[middle] <= instant) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return ({ at, knownAt }, upTo = history.length) => {
    if (upTo < history.length) {
      if (knownAt === undefined && latestOccurred[upTo] <= at) return prefixes[upTo];
    } else {
      // The first `kept` events were all made by `at` and as many were made by then in all: those are the ones.
      const kept = countOccurredBy(at);
      if (latestOccurred[kept] <= at && (knownAt === undefined || latestRecorded[kept] <= knownAt)) return prefixes[kept];
    }
    return ledgerAsOf(history.slice(0, upTo), { at, knownAt });
  };
}

const sameAnswer = (a: DecisionSummary, b: DecisionSummary) => a.allowed === b.allowed && a.reason === b.reason;
