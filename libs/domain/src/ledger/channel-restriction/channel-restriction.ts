import { subjectHasASay } from '../../catalogue/catalogue';
import type { Channel, PurposeId } from '../../vocabulary';
import type { LiftChannelRestriction, RestrictChannel } from '../commands';
import type { ChannelRestricted, ChannelRestrictionLifted } from '../events';
import { factOf, type LedgerContext, purposeFor } from '../facts';
import { channelScope, type Ledger, otherScopesOn, restatesStanding } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { assertRecordableAfterErasure } from '../erasure/after-erasure';

export function restrictChannel(command: RestrictChannel, ledger: Ledger, context: LedgerContext): ChannelRestricted[] {
  const { channel, purpose } = scopeOf(command, ledger, context);
  const standing = ledger.channelRestrictions.get(channelScope(channel, purpose));
  if (standing?.on && restatesStanding(command.capture, standing.stamp)) return [];
  return [{ type: 'ChannelRestricted', data: { ...factOf(command), channel, ...(purpose !== undefined && { purpose }) } }];
}

export function liftChannelRestriction(command: LiftChannelRestriction, ledger: Ledger, context: LedgerContext): ChannelRestrictionLifted[] {
  const { channel, purpose } = scopeOf(command, ledger, context);
  const standing = ledger.channelRestrictions.get(channelScope(channel, purpose));
  if (!standing?.on) {
    // Nothing to lift here; "already in force" would be false if a restriction of another scope
    // still keeps the channel closed for what the person asked to open.
    const elsewhere = otherScopesOn(ledger.channelRestrictions, channel, purpose);
    if (elsewhere.length > 0) throw new LedgerRuleBroken('in-force-at-another-scope', command, `${channel} is restricted for ${elsewhere.join(', ')}`);
    if (restatesStanding(command.capture, standing?.stamp)) return [];
  }
  return [{ type: 'ChannelRestrictionLifted', data: { ...factOf(command), channel, ...(purpose !== undefined && { purpose }) } }];
}

function scopeOf(
  command: RestrictChannel | LiftChannelRestriction,
  ledger: Ledger,
  context: LedgerContext,
): { channel: Channel; purpose?: PurposeId } {
  assertRecordableAfterErasure(ledger, command);
  const { channel, purpose: purposeId } = command.data;
  if (purposeId === undefined) return { channel };
  const purpose = purposeFor(command, purposeId, context);
  if (!purpose.channels.includes(channel)) throw new LedgerRuleBroken('channel-not-used-by-purpose', command, `${purpose.id} does not use ${channel}`);
  // Decisions ignore a restriction of processing the person cannot refuse (an invoice by SMS under
  // the contract), so recorded it would show in the preference centre as a choice that is not
  // kept. Lifting one stays possible, for those recorded before this rule.
  if (command.type === 'RestrictChannel' && !subjectHasASay(purpose)) {
    throw new LedgerRuleBroken('restriction-not-possible', command, purpose.id);
  }
  return { channel, purpose: purpose.id };
}
