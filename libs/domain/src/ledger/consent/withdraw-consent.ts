import type { WithdrawConsent } from '../commands';
import type { ConsentWithdrawn } from '../events';
import { factOf, type LedgerContext, purposeFor, restsOnConsent } from '../facts';
import { type Ledger, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { consentStatus, latestConsentChoice } from './consent-status';
import { assertRecordableAfterErasure } from '../erasure/after-erasure';

export function withdrawConsent(command: WithdrawConsent, ledger: Ledger, context: LedgerContext): ConsentWithdrawn[] {
  assertRecordableAfterErasure(ledger, command);
  const purpose = purposeFor(command, command.data.purpose, context);
  if (!restsOnConsent(purpose)) throw new LedgerRuleBroken('consent-not-applicable', command, purpose.id);

  // Judged on the ledger as it stands, not at the command's instant: a withdrawal that arrives
  // after a newer consent is still recorded as evidence, and the newer consent keeps winning. Only
  // the latest choice restated at its own instant adds nothing (see restatesStanding).
  const standing = consentStatus(ledger, purpose, command.capture.occurredAt);
  if (standing.state !== 'active' && restatesStanding(command.capture, latestConsentChoice(ledger, purpose.id))) return [];

  return [{ type: 'ConsentWithdrawn', data: { ...factOf(command), purpose: purpose.id } }];
}
