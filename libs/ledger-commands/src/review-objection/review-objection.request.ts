import { REVIEW_OUTCOMES, type ReviewObjection, type ReviewOutcome } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, IsText } from '../request-fields';

export class ReviewObjectionRequest extends CommandRequest {
  /** The purpose or group the motivated objection was raised against. */
  @IsText({ maxLength: 100 })
  purpose!: string;

  @IsOneOf(REVIEW_OUTCOMES)
  outcome!: ReviewOutcome;
}

export const REVIEW_OBJECTION: CommandShape<ReviewObjection, ReviewObjectionRequest> = {
  request: ReviewObjectionRequest,
  purpose: { field: 'purpose', accepts: 'purpose-or-group', optional: false },
  dataOf: async ({ purpose, outcome }) => ({ purpose, outcome }),
};
