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

export function endRelationship(command: EndRelationship, ledger: Ledger): RelationshipEnded[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const current = ledger.relationships.get(command.brand);
  if (!current) throw new LedgerRuleBroken('no-relationship-to-end', command, command.brand);
  if (!current.active && !isMadeAfter(command.capture, current.stamp)) return [];
  return [{ type: 'RelationshipEnded', data: { ...factOf(command), relationship: current.kind } }];
}
