import type { EndRelationship, StartRelationship } from '../commands';
import type { RelationshipEnded, RelationshipStarted } from '../events';
import { factOf } from '../facts';
import { holdsContractEvent, isContractRunningAt, isMadeAfter, type Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import type { RelationshipKind } from '../../vocabulary';

export function startRelationship(command: StartRelationship, ledger: Ledger): RelationshipStarted[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const segment = command.data.segment ?? 'residential';
  const current = ledger.relationships.get(command.brand);
  // A prospect only while no contract runs: dated inside a contract (an active one runs from its
  // start on) it is refused; dated before the contract, it is the prospect period before it.
  if (command.data.relationship === 'prospect' && current?.kind === 'customer' && isContractRunningAt(current, command.capture.occurredAt)) {
    throw new LedgerRuleBroken('already-a-customer', command, command.brand);
  }
  if (command.data.relationship === 'customer') {
    // Every start of a contract is kept once, also one dated inside a contract the ledger knows
    // as running: an end dated between the two may still arrive, and then this start opens the
    // next contract (the order they were made in would have recorded both).
    if (current && holdsContractEvent(current, command.capture.occurredAt, { started: true, segment })) return [];
  } else if (current?.active && current.kind === 'prospect' && current.segment === segment && !isMadeAfter(command.capture, current.stamp)) {
    return [];
  }
  return [{ type: 'RelationshipStarted', data: { ...factOf(command), relationship: command.data.relationship, segment } }];
}

/**
 * Also after an erasure: what the law keeps (billing records) and legal claims need outlive it,
 * each for a period counted from the end of the contract, which only this records.
 *
 * An end made after the relationship's latest start or end ends it (again, if it had ended: a
 * repeat). One made before is about the period its instant falls in, whatever arrived since:
 * within the prospect relationship that stands, it ends that; otherwise it is a contract's end,
 * recorded as a customer end (also when a prospect relationship followed) once, in whatever period
 * it falls: billing may send a first contract's end after the next contract's, and a start dated
 * before it may still arrive. The contract history reads an end while no contract runs as ending
 * nothing (also one dated before every start it knows of, which may be a prospect relationship's
 * end or a contract's whose start has not arrived yet). So the ledger keeps every start and end of
 * a contract in any arrival order (docs/decisions/0001).
 */
export function endRelationship(command: EndRelationship, ledger: Ledger): RelationshipEnded[] {
  // Nothing that could identify the person may be kept again once erased.
  if (ledger.erasure && command.capture.evidenceRef !== undefined) {
    throw new LedgerRuleBroken('subject-erased', command, 'the end of a contract after an erasure carries no evidence reference');
  }
  const current = ledger.relationships.get(command.brand);
  if (!current) throw new LedgerRuleBroken('no-relationship-to-end', command, command.brand);
  const ended = (relationship: RelationshipKind): RelationshipEnded[] => [{ type: 'RelationshipEnded', data: { ...factOf(command), relationship } }];
  if (isMadeAfter(command.capture, current.stamp)) return ended(current.kind);
  const { occurredAt } = command.capture;
  if (current.active && current.kind === 'prospect' && occurredAt >= (current.startedAt ?? current.stamp.occurredAt)) return ended('prospect');
  // The relationship's own end, delivered again.
  if (!current.active && occurredAt === current.stamp.occurredAt) return [];
  return holdsContractEvent(current, occurredAt, { started: false }) ? [] : ended('customer');
}
