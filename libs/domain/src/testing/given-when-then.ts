import { loadCatalogue, type Catalogue } from '../catalogue/catalogue';
import { decisionForOneSubject, mayProcess, type Decision, type DecisionQuery } from '../decisions/may-process';
import type { LedgerCommand } from '../ledger/commands';
import { decide } from '../ledger/decide';
import type { LedgerContext } from '../ledger/facts';
import type { LedgerEvent, RecordedLedgerEvent } from '../ledger/events';
import { type AsOf, ledgerAsOf, ledgerOf, type Ledger } from '../ledger/ledger';
import { LedgerRuleBroken, type LedgerRule } from '../ledger/rules';
import type { Instant } from '../vocabulary';
import operatorCatalogue from '../../../../catalogues/proximus.json';

/** The operator's own catalogue: domain specs test the rules its privacy statement implies. */
export const catalogue: Catalogue = loadCatalogue(operatorCatalogue);

/** Gives events the ids and revisions a store would. */
export const recorded = (events: readonly LedgerEvent[], firstRevision = 0): RecordedLedgerEvent[] =>
  events.map((event, i) => ({ ...event, eventId: `event-${firstRevision + i}`, revision: firstRevision + i }));

/**
 * Given past facts, when a command, then new facts (or a named rejection, or nothing).
 * Also: given past facts, what may be processed at an instant.
 */
export function given(...events: LedgerEvent[]) {
  return givenUnder(catalogue, ...events);
}

/** `given`, under a catalogue of the test's own (an operator's edit of it, say). */
export function givenUnder(catalogue: Catalogue, ...events: LedgerEvent[]) {
  return givenIn({ catalogue }, ...events);
}

/** `given`, in a context of the test's own: a catalogue, and the notices of catalogues kept in the log. */
export function givenIn(context: LedgerContext, ...events: LedgerEvent[]) {
  const { catalogue } = context;
  const history = recorded(events);
  const ledger: Ledger = ledgerOf(history);
  return {
    history,
    ledger,
    when(command: LedgerCommand) {
      const run = () => decide(command, ledger, context);
      return {
        then(...expected: LedgerEvent[]) {
          expect(run()).toEqual(expected);
        },
        thenNothingHappened() {
          expect(run()).toEqual([]);
        },
        thenRejected(rule: LedgerRule) {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(LedgerRuleBroken);
          expect((thrown as LedgerRuleBroken).rule).toBe(rule);
        },
      };
    },
    /** What may be processed at `at` (and, with `knownAt`, as the system knew it then). */
    mayProcess(query: Omit<DecisionQuery, 'at'> & { at: Instant | string; knownAt?: Instant | string }): Decision {
      const at = new Date(query.at).toISOString() as Instant;
      const asOf: AsOf = { at, ...(query.knownAt !== undefined && { knownAt: new Date(query.knownAt).toISOString() as Instant }) };
      return mayProcess(ledgerAsOf(history, asOf), catalogue, { ...query, at });
    },
    /** The answer one subject's question gets, as `mayProcess` takes it. */
    decisionForOneSubject(query: Omit<DecisionQuery, 'at'> & { at: Instant | string }): Decision {
      const at = new Date(query.at).toISOString() as Instant;
      return decisionForOneSubject(ledgerAsOf(history, { at }), catalogue, { ...query, at });
    },
  };
}

/** Applies a command's events to a history, the way the store would append them. */
export function append(history: readonly RecordedLedgerEvent[], command: LedgerCommand): RecordedLedgerEvent[] {
  const events = decide(command, ledgerOf(history), { catalogue });
  return [...history, ...recorded(events, history.length)];
}
