import fc from 'fast-check';
import { mayProcess } from '../../decisions/may-process';
import { catalogue, distinctInstants, objectTo, recorded, reviewObjection, sealed, startRelationship, withdrawObjection } from '../../testing';
import type { Instant, ReviewOutcome } from '../../vocabulary';
import type { LedgerCommand } from '../commands';
import { decide } from '../decide';
import type { LedgerEvent } from '../events';
import { ledgerAsOf, ledgerOf } from '../ledger';
import { LedgerRuleBroken } from '../rules';

const RECORDING = 'customer-service-recording-quality-control';

/**
 * Records each command in turn, then sends each refused one again once everything has arrived,
 * as a channel does with a 422 that names an order-dependent rule (ADR 0001).
 */
function recordAndResend(commands: readonly LedgerCommand[]): LedgerEvent[] {
  const refused: LedgerCommand[] = [];
  const attempt = (history: LedgerEvent[], command: LedgerCommand, onRefusal: () => void) => {
    try {
      return [...history, ...decide(command, ledgerOf(recorded(history)), { catalogue })];
    } catch (error) {
      if (!(error instanceof LedgerRuleBroken)) throw error;
      onRefusal();
      return history;
    }
  };
  const arrived = commands.reduce<LedgerEvent[]>((history, command) => attempt(history, command, () => refused.push(command)), []);
  return refused.reduce<LedgerEvent[]>((history, command) => attempt(history, command, () => undefined), arrived);
}

/** A person objecting to a motivated purpose and withdrawing, and the operator's reviews, all with one outcome. */
const madeInOrder = (outcome: ReviewOutcome) =>
  fc
    .integer({ min: 1, max: 8 })
    .chain((length) => distinctInstants(length))
    .map((instants) => [...instants].sort())
    .chain((instants) =>
      fc.tuple(
        ...instants.map((occurredAt) =>
          fc.constantFrom<LedgerCommand>(
            objectTo({ purpose: RECORDING, justification: sealed('recorded without notice'), occurredAt }),
            withdrawObjection({ purpose: RECORDING, occurredAt }),
            reviewObjection({ purpose: RECORDING, outcome, occurredAt }),
          ),
        ),
      ),
    );

describe('objections and their reviews, for any order of arrival', () => {
  // Found by property probes: a review arriving after the person withdrew the objection, or
  // objected again, was refused whenever it was sent, and the days it answered stayed "pending".
  it('answer every past instant as the order they were made in, once refused reviews are sent again', () => {
    const answersAt = (history: readonly LedgerEvent[], instants: readonly Instant[]) =>
      instants.map((at) => {
        const { allowed, reason } = mayProcess(ledgerAsOf(recorded(history), { at }), catalogue, { purpose: RECORDING, at });
        return `${at}: ${allowed ? 'allowed' : 'denied'} (${reason})`;
      });
    fc.assert(
      fc.property(
        fc
          .constantFrom<ReviewOutcome>('upheld', 'rejected')
          .chain(madeInOrder)
          .chain((made) => fc.tuple(fc.constant(made), fc.shuffledSubarray(made, { minLength: made.length, maxLength: made.length }))),
        ([made, arrived]) => {
          const known = startRelationship({ occurredAt: '2023-12-31T00:00:00Z' });
          const instants = made.flatMap(({ capture }) => [capture.occurredAt, new Date(Date.parse(capture.occurredAt) + 43_200_000).toISOString()] as Instant[]);
          expect(answersAt(recordAndResend([known, ...arrived]), instants)).toEqual(answersAt(recordAndResend([known, ...made]), instants));
        },
      ),
      { numRuns: 500 },
    );
  });
});
