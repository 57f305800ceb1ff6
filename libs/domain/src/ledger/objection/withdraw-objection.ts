import type { WithdrawObjection } from '../commands';
import type { ObjectionWithdrawn } from '../events';
import { factOf, type LedgerContext } from '../facts';
import type { Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { objectionTarget } from './objection-target';

export function withdrawObjection(command: WithdrawObjection, ledger: Ledger, context: LedgerContext): ObjectionWithdrawn[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const target = objectionTarget(command, context);
  if (!ledger.objections.get(target.id)?.raised) return [];
  return [{ type: 'ObjectionWithdrawn', data: { ...factOf(command), target: target.id } }];
}
