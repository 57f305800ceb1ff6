import { CHANNELS, type Channel, type RestrictChannel } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, IsText, Optional } from '../request-fields';

export class RestrictChannelRequest extends CommandRequest {
  @IsOneOf(CHANNELS)
  channel!: Channel;

  /** Omitted: the channel is refused for every purpose. */
  @Optional()
  @IsText({ maxLength: 100 })
  purpose?: string;
}

export const RESTRICT_CHANNEL: CommandShape<RestrictChannel, RestrictChannelRequest> = {
  request: RestrictChannelRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: true },
  dataOf: async ({ channel, purpose }) => ({ channel, ...(purpose !== undefined && { purpose }) }),
};
