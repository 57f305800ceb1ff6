import type { EndRelationship, StartRelationship } from '../commands';
import type { RelationshipEnded, RelationshipStarted } from '../events';
import { factOf } from '../facts';
import { holdsRelationshipChange, isContractRunningAt, isMadeAfter, type Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { DEFAULT_SEGMENT, type RelationshipKind } from '../../vocabulary';

export function startRelationship(command: StartRelationship, ledger: Ledger): RelationshipStarted[] {
  const kind = command.data.relationship;
  // After an erasure only a contract that began before it, without evidence, is still recorded:
  // the windows of what the law keeps count from its end, which may arrive too (see endRelationship).
  if (ledger.erasure && (kind !== 'customer' || command.capture.occurredAt >= ledger.erasure.stamp.occurredAt || command.capture.evidenceRef !== undefined)) {
    throw new LedgerRuleBroken('subject-erased', command);
  }
  const segment = command.data.segment ?? DEFAULT_SEGMENT;
  const current = ledger.relationships.get(command.brand);
  // A prospect only while no contract runs: dated inside a contract (an active one runs from its
  // start on) it is refused; dated before the contract, it is the prospect period before it.
  if (kind === 'prospect' && current && isContractRunningAt(current, command.capture.occurredAt)) {
    throw new LedgerRuleBroken('already-a-customer', command, command.brand);
  }
  // Every start is kept once, also one dated inside a relationship the ledger knows as running: an
  // end dated between the two may still arrive, and then this start opens the next relationship
  // (the order they were made in would have recorded both).
  if (current && holdsRelationshipChange(current, command.capture.occurredAt, { started: true, kind, segment })) return [];
  return [{ type: 'RelationshipStarted', data: { ...factOf(command), relationship: kind, segment } }];
}

/**
 * Also after an erasure: what the law keeps (billing records) and legal claims need outlive it,
 * each for a period counted from the end of the contract, which only this records.
 *
 * Every end is kept once, whatever period it falls in (the same instant delivered again records
 * nothing): billing may send a first contract's end after the next contract's, and a start dated
 * before it may still arrive. Replayed in the person's order, an end ends whatever ran then, and
 * one while nothing ran ends nothing (docs/decisions/0001). What the event says it ended is what
 * the ledger knew when it arrived: the relationship standing, for an end made after it; the
 * prospect relationship standing, for one dated inside it; otherwise a contract.
 */
export function endRelationship(command: EndRelationship, ledger: Ledger): RelationshipEnded[] {
  // Nothing that could identify the person may be kept again once erased.
  if (ledger.erasure && command.capture.evidenceRef !== undefined) {
    throw new LedgerRuleBroken('subject-erased', command, 'the end of a contract after an erasure carries no evidence reference');
  }
  const current = ledger.relationships.get(command.brand);
  if (!current) throw new LedgerRuleBroken('no-relationship-to-end', command, command.brand);
  const { occurredAt } = command.capture;
  if (holdsRelationshipChange(current, occurredAt, { started: false })) return [];
  const ended = (relationship: RelationshipKind): RelationshipEnded[] => [{ type: 'RelationshipEnded', data: { ...factOf(command), relationship } }];
  if (isMadeAfter(command.capture, current.stamp)) return ended(current.kind);
  if (current.active && current.kind === 'prospect' && occurredAt >= (current.startedAt ?? current.stamp.occurredAt)) return ended('prospect');
  return ended('customer');
}
