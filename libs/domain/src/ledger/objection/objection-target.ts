import type { ObjectionRule } from '../../vocabulary';
import type { ObjectToProcessing, ReviewObjection, WithdrawObjection } from '../commands';
import type { LedgerContext } from '../facts';
import { LedgerRuleBroken } from '../rules';

export interface ObjectionTarget {
  readonly id: string;
  readonly objection: ObjectionRule;
  readonly isLegalObligation: boolean;
}

/** An objection names a purpose or a purpose group (`direct-marketing`); both carry an objection rule. */
export function objectionTarget(
  command: ObjectToProcessing | WithdrawObjection | ReviewObjection,
  context: LedgerContext,
): ObjectionTarget {
  const id = command.data.purpose;
  const group = context.catalogue.groups.get(id);
  if (group) return { id, objection: group.objection, isLegalObligation: false };
  const purpose = context.catalogue.purposes.get(id);
  if (!purpose) throw new LedgerRuleBroken('unknown-purpose', command, `"${id}" is neither a purpose nor a purpose group`);
  return { id, objection: purpose.objection, isLegalObligation: purpose.legalBasis === 'legal-obligation' };
}
