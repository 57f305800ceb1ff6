import type { EndRelationship, StartRelationship } from '../commands';
import type { RelationshipEnded, RelationshipStarted } from '../events';
import { factOf } from '../facts';
import { isContractRunningAt, isMadeAfter, type Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import type { RelationshipKind } from '../../vocabulary';

export function startRelationship(command: StartRelationship, ledger: Ledger): RelationshipStarted[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const segment = command.data.segment ?? 'residential';
  const current = ledger.relationships.get(command.brand);
  if (current?.active) {
    if (current.kind === 'customer' && command.data.relationship === 'prospect') throw new LedgerRuleBroken('already-a-customer', command, command.brand);
    // A start made before the one standing repeats it only if a contract ran then: otherwise it is
    // a contract billing sent late (after the next one), whose end may still arrive.
    const isRepeat = current.kind === command.data.relationship && current.segment === segment && !isMadeAfter(command.capture, current.stamp);
    if (isRepeat && (current.kind !== 'customer' || isContractRunningAt(current, command.capture.occurredAt))) return [];
  }
  return [{ type: 'RelationshipStarted', data: { ...factOf(command), relationship: command.data.relationship, segment } }];
}

/**
 * Also after an erasure: what the law keeps (billing records) and legal claims need outlive it,
 * each for a period counted from the end of the contract, which only this records.
 *
 * An end made after the relationship's latest start or end ends it (again, if it had ended: a
 * repeat). One made before is about the period its instant falls in, whatever arrived since:
 * within the prospect relationship that stands, it ends that; otherwise it ends the contract
 * running then, as the brand's contract history tells (billing may send a first contract's end
 * after the next contract's), and is recorded as a customer end, also when a prospect
 * relationship followed. In a period already ended, or before any, it records nothing. So the
 * ends the ledger keeps are the same in any arrival order (docs/decisions/0001).
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
  return isContractRunningAt(current, occurredAt) ? ended('customer') : [];
}
