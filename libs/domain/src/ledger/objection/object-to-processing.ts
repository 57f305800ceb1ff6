import type { ObjectToProcessing } from '../commands';
import type { ObjectionRaised } from '../events';
import { factOf, type LedgerContext } from '../facts';
import { type Ledger, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { objectionTarget } from './objection-target';
import { assertRecordableAfterErasure } from '../erasure/after-erasure';

export function objectToProcessing(command: ObjectToProcessing, ledger: Ledger, context: LedgerContext): ObjectionRaised[] {
  assertRecordableAfterErasure(ledger, command);
  const target = objectionTarget(command, context);
  if (target.isLegalObligation) throw new LedgerRuleBroken('legal-obligation-cannot-be-objected-to', command, target.id);
  if (target.objection === 'none') throw new LedgerRuleBroken('objection-not-possible', command, target.id);
  const needsReview = target.objection === 'motivated';
  if (needsReview && command.data.justification === undefined) throw new LedgerRuleBroken('justification-required', command, target.id);

  const standing = ledger.objections.get(target.id);
  if (standing?.raised && restatesStanding(command.capture, standing.stamp)) return [];

  return [
    {
      type: 'ObjectionRaised',
      data: {
        ...factOf(command),
        target: target.id,
        needsReview,
        ...(command.data.justification !== undefined && { justification: command.data.justification }),
      },
    },
  ];
}
