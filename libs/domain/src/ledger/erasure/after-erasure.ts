import type { LedgerCommand, ObjectToProcessing, RestrictChannel, OptOutSource, WithdrawConsent } from '../commands';
import type { Ledger } from '../ledger';
import { LedgerRuleBroken } from '../rules';

/**
 * After an erasure, the person's earlier word against processing is still recorded when it
 * carries nothing that could identify them: a withdrawal on paper keyed in after the erasure
 * request is the proof that what came between was not allowed, and nothing else can bring it in
 * (found in review: it was refused however often it was sent, and the answers for the days
 * before the erasure kept "allowed"). Anything the person could be identified by (evidence, a
 * justification), anything dated from the erasure on, and any other command is refused.
 */
export function assertRecordableAfterErasure(ledger: Ledger, command: LedgerCommand): void {
  if (!ledger.erasure) return;
  if (isAgainstProcessing(command) && command.capture.occurredAt < ledger.erasure.stamp.occurredAt && command.capture.evidenceRef === undefined && !carriesJustification(command)) return;
  throw new LedgerRuleBroken('subject-erased', command);
}

type AgainstProcessing = WithdrawConsent | ObjectToProcessing | RestrictChannel | OptOutSource;

const isAgainstProcessing = (command: LedgerCommand): command is AgainstProcessing =>
  command.type === 'WithdrawConsent' || command.type === 'Object' || command.type === 'RestrictChannel' || command.type === 'OptOutSource';

const carriesJustification = (command: AgainstProcessing): boolean => command.type === 'Object' && command.data.justification !== undefined;
