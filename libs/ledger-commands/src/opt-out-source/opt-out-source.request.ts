import { DATA_SOURCES, type DataSource, type OptOutSource } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, IsText, Optional } from '../request-fields';

export class OptOutSourceRequest extends CommandRequest {
  @IsOneOf(DATA_SOURCES)
  source!: DataSource;

  /** Omitted: the source may not be used for any purpose. */
  @Optional()
  @IsText({ maxLength: 100 })
  purpose?: string;
}

export const OPT_OUT_SOURCE: CommandShape<OptOutSource, OptOutSourceRequest> = {
  request: OptOutSourceRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: true },
  dataOf: async ({ source, purpose }) => ({ source, ...(purpose !== undefined && { purpose }) }),
};
