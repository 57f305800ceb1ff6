import type { Catalogue } from '../catalogue/catalogue';
import { type Decision, decisionForOneSubject } from '../decisions/may-process';
import type { RecordedLedgerEvent } from '../ledger/events';
import { ledgerAsOf } from '../ledger/ledger';
import type { Brand, Channel, DataSource, DecisionReason, Instant, LegalBasis, PurposeId, Touchpoint } from '../vocabulary';
import { decisionOf, type ReceiptDecision } from './consent-receipt';

/** "What was allowed at `at`, as the system knew it at `knownAt`, and why" (ADR 0001). */
export interface AsOfQuery {
  readonly at: Instant;
  /** Omitted: with everything recorded since (what the person had chosen by `at`). */
  readonly knownAt?: Instant;
  /** Omitted: every purpose of the catalogue. */
  readonly purposes?: readonly PurposeId[];
  readonly brand?: Brand;
  readonly channel?: Channel;
  readonly source?: DataSource;
}

export interface DecidingEvent {
  readonly eventId: string;
  readonly revision: number;
  readonly decision: ReceiptDecision;
  readonly occurredAt: Instant;
  readonly recordedAt: Instant;
  readonly touchpoint: Touchpoint;
}

export interface PurposeAnswer {
  readonly purpose: PurposeId;
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly legalBasis: LegalBasis;
  readonly validUntil: Instant | null;
  /**
   * Asked without a channel, for a purpose that contacts people: the channels it could use then
   * (empty when denied), as the decision endpoint answers. "Allowed" alone would hide a channel
   * the person had restricted.
   */
  readonly channels?: readonly Channel[];
  /** Asked without a source, for a purpose that draws on data sources: those it could use then, less the opt-outs. */
  readonly sources?: readonly DataSource[];
  readonly decidedBy: readonly DecidingEvent[];
}

export interface AsOfAnswer {
  readonly at: Instant;
  readonly knownAt: Instant | null;
  readonly brand: Brand;
  readonly channel?: Channel;
  readonly source?: DataSource;
  /** Choices expressed by `at` and recorded by `knownAt`: what the answer rests on. */
  readonly eventsConsidered: number;
  /** Choices expressed by `at` but recorded after `knownAt`: late evidence the system did not have yet. */
  readonly eventsRecordedLater: readonly string[];
  readonly purposes: readonly PurposeAnswer[];
}

export function asOfAnswer(history: readonly RecordedLedgerEvent[], catalogue: Catalogue, query: AsOfQuery): AsOfAnswer {
  const { at, knownAt, brand = 'proximus', channel, source } = query;
  const ledger = ledgerAsOf(history, { at, knownAt });
  const expressedByThen = history.filter((event) => event.data.capture.occurredAt <= at);
  const byId = new Map(history.map((event) => [event.eventId, event]));
  const purposes = query.purposes ?? [...catalogue.purposes.keys()];
  return {
    at,
    knownAt: knownAt ?? null,
    brand,
    ...(channel !== undefined && { channel }),
    ...(source !== undefined && { source }),
    eventsConsidered: expressedByThen.filter((event) => knownAt === undefined || event.data.capture.recordedAt <= knownAt).length,
    eventsRecordedLater: expressedByThen.filter((event) => knownAt !== undefined && event.data.capture.recordedAt > knownAt).map((event) => event.eventId),
    purposes: purposes.map((purpose) => {
      // The decision endpoint's own answer (`decisionForOneSubject`), so that the CLI and the API
      // agree on the channels and sources too (found in review: the CLI said ALLOWED for marketing
      // with SMS restricted, and for profiling with TV viewing opted out, without either).
      const decision: Decision = decisionForOneSubject(ledger, catalogue, { purpose, brand, at, channel, source });
      return {
        purpose,
        allowed: decision.allowed,
        reason: decision.reason,
        legalBasis: decision.legalBasis,
        validUntil: decision.validUntil,
        ...(decision.channels && { channels: decision.channels }),
        ...(decision.sources && { sources: decision.sources }),
        decidedBy: decision.basedOn.map((ref) => {
          const event = byId.get(ref.eventId)!;
          return {
            eventId: ref.eventId,
            revision: ref.revision,
            decision: decisionOf(event, history, catalogue),
            occurredAt: event.data.capture.occurredAt,
            recordedAt: event.data.capture.recordedAt,
            touchpoint: event.data.capture.touchpoint,
          };
        }),
      };
    }),
  };
}
