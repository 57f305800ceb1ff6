import type { ReviewObjection } from '../commands';
import type { ObjectionReviewed } from '../events';
import { factOf, type LedgerContext } from '../facts';
import type { Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { objectionTarget } from './objection-target';

/** The operator's answer to a motivated objection (GDPR art. 21(1): compelling legitimate grounds or not). */
export function reviewObjection(command: ReviewObjection, ledger: Ledger, context: LedgerContext): ObjectionReviewed[] {
  const target = objectionTarget(command, context);
  const objection = ledger.objections.get(target.id);
  if (!objection?.raised || !objection.needsReview) throw new LedgerRuleBroken('no-objection-pending-review', command, target.id);
  if (objection.review?.outcome === command.data.outcome) return [];
  return [{ type: 'ObjectionReviewed', data: { ...factOf(command), target: target.id, outcome: command.data.outcome } }];
}
