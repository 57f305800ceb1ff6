import type { EndRelationship, StartRelationship } from '../commands';
import type { RelationshipEnded, RelationshipStarted } from '../events';
import { factOf } from '../facts';
import { isMadeAfter, type Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';

export function startRelationship(command: StartRelationship, ledger: Ledger): RelationshipStarted[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const segment = command.data.segment ?? 'residential';
  const current = ledger.relationships.get(command.brand);
  if (current?.active) {
    if (current.kind === 'customer' && command.data.relationship === 'prospect') throw new LedgerRuleBroken('already-a-customer', command, command.brand);
    if (current.kind === command.data.relationship && current.segment === segment && !isMadeAfter(command.capture, current.stamp)) return [];
  }
  return [{ type: 'RelationshipStarted', data: { ...factOf(command), relationship: command.data.relationship, segment } }];
}

/**
 * Also after an erasure: what the law keeps (billing records) and legal claims need outlive it,
 * each for a period counted from the end of the contract, which only this records.
 */
export function endRelationship(command: EndRelationship, ledger: Ledger): RelationshipEnded[] {
  // Nothing that could identify the person may be kept again once erased.
  if (ledger.erasure && command.capture.evidenceRef !== undefined) {
    throw new LedgerRuleBroken('subject-erased', command, 'the end of a contract after an erasure carries no evidence reference');
  }
  const current = ledger.relationships.get(command.brand);
  if (!current) throw new LedgerRuleBroken('no-relationship-to-end', command, command.brand);
  if (!current.active && !isMadeAfter(command.capture, current.stamp)) return [];
  return [{ type: 'RelationshipEnded', data: { ...factOf(command), relationship: current.kind } }];
}
