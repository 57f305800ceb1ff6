import type { LedgerCommand } from './commands';
import { giveConsent } from './consent/give-consent';
import { withdrawConsent } from './consent/withdraw-consent';
import { liftChannelRestriction, restrictChannel } from './channel-restriction/channel-restriction';
import { eraseSubject } from './erasure/erase-subject';
import type { LedgerEvent } from './events';
import type { LedgerContext } from './facts';
import { assertNever, type Ledger } from './ledger';
import { objectToProcessing } from './objection/object-to-processing';
import { reviewObjection } from './objection/review-objection';
import { withdrawObjection } from './objection/withdraw-objection';
import { endRelationship, startRelationship } from './relationship/relationship';
import { refuseUnpublishedNotice } from './published-notices';
import { optInSource, optOutSource } from './source-opt-out/source-opt-out';

/**
 * Decides what a command means for this subject: the new events, `[]` when the choice is already
 * in force, or a `LedgerRuleBroken`. Pure: same command, ledger and catalogue, same answer.
 */
export function decide(command: LedgerCommand, ledger: Ledger, context: LedgerContext): LedgerEvent[] {
  refuseUnpublishedNotice(command, context);
  const events = decideUnderCatalogue(command, ledger, context);
  const { reference } = context.catalogue;
  // The proof names the terms the choice was decided under, not only the notice the channel showed.
  return reference === undefined ? events : events.map((event) => ({ ...event, data: { ...event.data, capture: { ...event.data.capture, catalogue: reference } } }) as LedgerEvent);
}

function decideUnderCatalogue(command: LedgerCommand, ledger: Ledger, context: LedgerContext): LedgerEvent[] {
  switch (command.type) {
    case 'GiveConsent':
      return giveConsent(command, ledger, context);
    case 'WithdrawConsent':
      return withdrawConsent(command, ledger, context);
    case 'Object':
      return objectToProcessing(command, ledger, context);
    case 'WithdrawObjection':
      return withdrawObjection(command, ledger, context);
    case 'ReviewObjection':
      return reviewObjection(command, ledger, context);
    case 'RestrictChannel':
      return restrictChannel(command, ledger, context);
    case 'LiftChannelRestriction':
      return liftChannelRestriction(command, ledger, context);
    case 'OptOutSource':
      return optOutSource(command, ledger, context);
    case 'OptInSource':
      return optInSource(command, ledger, context);
    case 'StartRelationship':
      return startRelationship(command, ledger);
    case 'EndRelationship':
      return endRelationship(command, ledger);
    case 'EraseSubject':
      return eraseSubject(command, ledger);
    default:
      return assertNever(command);
  }
}
