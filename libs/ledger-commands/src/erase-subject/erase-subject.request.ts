import type { EraseSubject } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsText, Optional } from '../request-fields';

/** Erasure requested by the person unless another basis is named (e.g. a court order reference). */
export const DEFAULT_ERASURE_BASIS = 'gdpr-art-17-request';

export class EraseSubjectRequest extends CommandRequest {
  @Optional()
  @IsText({ maxLength: 200, inClear: true })
  basis?: string;
}

export const ERASE_SUBJECT: CommandShape<EraseSubject, EraseSubjectRequest> = {
  request: EraseSubjectRequest,
  // The controller's act, done when recorded (the key is destroyed then): dated earlier, it would
  // make every answer since that date say the subject was erased, while their data was still used.
  datedOnArrival: true,
  dataOf: async ({ basis }) => ({ basis: basis ?? DEFAULT_ERASURE_BASIS }),
};
