import type { WithdrawObjection } from '../commands';
import type { ObjectionWithdrawn } from '../events';
import { factOf, type LedgerContext } from '../facts';
import { type Ledger, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { objectionTarget } from './objection-target';

export function withdrawObjection(command: WithdrawObjection, ledger: Ledger, context: LedgerContext): ObjectionWithdrawn[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const target = objectionTarget(command, context);
  const standing = ledger.objections.get(target.id);
  if (!standing?.raised) {
    // An objection to the group covers its purposes, and objections to purposes are not one to the
    // group: "already in force" would be false while either still stops the processing.
    const group = context.catalogue.groups.get(target.id);
    const related = group ? group.members : (context.catalogue.groupsOf.get(target.id) ?? []);
    const elsewhere = related.filter((id) => ledger.objections.get(id)?.raised);
    if (elsewhere.length > 0) throw new LedgerRuleBroken('in-force-at-another-scope', command, `the objection in force is to ${elsewhere.join(', ')}`);
    if (restatesStanding(command.capture, standing?.stamp)) return [];
  }
  return [{ type: 'ObjectionWithdrawn', data: { ...factOf(command), target: target.id } }];
}
