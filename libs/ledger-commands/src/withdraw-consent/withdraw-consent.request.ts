import type { WithdrawConsent } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsText } from '../request-fields';

export class WithdrawConsentRequest extends CommandRequest {
  @IsText({ maxLength: 100 })
  purpose!: string;
}

export const WITHDRAW_CONSENT: CommandShape<WithdrawConsent, WithdrawConsentRequest> = {
  request: WithdrawConsentRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: false },
  dataOf: async ({ purpose }) => ({ purpose }),
};
