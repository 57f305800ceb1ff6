import type { ReviewObjection } from '../commands';
import type { ObjectionReviewed } from '../events';
import { factOf, type LedgerContext } from '../facts';
import { type Ledger, otherReviewsOfObjectionAt, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { objectionTarget } from './objection-target';

/** The operator's answer to a motivated objection (GDPR art. 21(1): compelling legitimate grounds or not). */
export function reviewObjection(command: ReviewObjection, ledger: Ledger, context: LedgerContext): ObjectionReviewed[] {
  if (ledger.erasure) throw new LedgerRuleBroken('subject-erased', command);
  const target = objectionTarget(command, context);
  const objection = ledger.objections.get(target.id);
  const { occurredAt } = command.capture;
  // A review answers the objection raised at its own instant, whatever the person chose since
  // (withdrew it, or objected again: a new objection awaiting its own review).
  const others = otherReviewsOfObjectionAt(objection, { change: 'reviewed', stamp: { occurredAt, revision: ledger.revision + 1 }, outcome: command.data.outcome });
  if (others === undefined) {
    const later = objection?.history.find((change) => change.change === 'raised' && change.needsReview && change.stamp.occurredAt > occurredAt);
    if (later) throw new LedgerRuleBroken('review-predates-objection', command, `the objection to ${target.id} was made at ${later.stamp.occurredAt}`);
    throw new LedgerRuleBroken('no-objection-pending-review', command, target.id);
  }
  // The assessment is the controller's answer to this objection (art. 21(1)), whenever the second
  // one is dated: a changed outcome comes from a new objection of the person, which awaits review.
  // The same outcome at another instant is recorded: it may answer an objection dated between the
  // two that has not arrived yet (and is the answer it gives, once it has).
  const otherOutcome = others.find((review) => review.outcome !== command.data.outcome);
  if (otherOutcome) {
    throw new LedgerRuleBroken('objection-already-reviewed', command, `${target.id} was reviewed as ${otherOutcome.outcome} at ${otherOutcome.stamp.occurredAt}`);
  }
  if (others.some((review) => restatesStanding(command.capture, review.stamp))) return [];
  return [{ type: 'ObjectionReviewed', data: { ...factOf(command), target: target.id, outcome: command.data.outcome } }];
}
