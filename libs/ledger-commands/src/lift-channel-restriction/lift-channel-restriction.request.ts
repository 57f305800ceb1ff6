import { CHANNELS, type Channel, type LiftChannelRestriction } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, IsText, Optional } from '../request-fields';

export class LiftChannelRestrictionRequest extends CommandRequest {
  @IsOneOf(CHANNELS)
  channel!: Channel;

  /** The scope the restriction was recorded with; omitted: the restriction for every purpose. */
  @Optional()
  @IsText({ maxLength: 100 })
  purpose?: string;
}

export const LIFT_CHANNEL_RESTRICTION: CommandShape<LiftChannelRestriction, LiftChannelRestrictionRequest> = {
  request: LiftChannelRestrictionRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: true },
  dataOf: async ({ channel, purpose }) => ({ channel, ...(purpose !== undefined && { purpose }) }),
};
