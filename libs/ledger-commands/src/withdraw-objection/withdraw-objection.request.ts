import type { WithdrawObjection } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsText } from '../request-fields';

export class WithdrawObjectionRequest extends CommandRequest {
  /** A purpose, or a purpose group such as `direct-marketing`. */
  @IsText({ maxLength: 100 })
  purpose!: string;
}

export const WITHDRAW_OBJECTION: CommandShape<WithdrawObjection, WithdrawObjectionRequest> = {
  request: WithdrawObjectionRequest,
  purpose: { field: 'purpose', accepts: 'purpose-or-group', optional: false },
  dataOf: async ({ purpose }) => ({ purpose }),
};
