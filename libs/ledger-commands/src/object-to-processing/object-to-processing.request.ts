import type { ObjectToProcessing } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsText, Optional } from '../request-fields';

export class ObjectToProcessingRequest extends CommandRequest {
  /** A purpose, or a purpose group such as `direct-marketing`. */
  @IsText({ maxLength: 100 })
  purpose!: string;

  /** The person's reasons (GDPR art. 21(1)); sealed because it may describe their situation. */
  @Optional()
  @IsText({ maxLength: 4000, multiline: true })
  justification?: string;
}

export const OBJECT_TO_PROCESSING: CommandShape<ObjectToProcessing, ObjectToProcessingRequest> = {
  request: ObjectToProcessingRequest,
  purpose: { field: 'purpose', accepts: 'purpose-or-group', optional: false },
  dataOf: async ({ purpose, justification }, seal) => ({
    purpose,
    ...(justification !== undefined && { justification: await seal(justification) }),
  }),
};
