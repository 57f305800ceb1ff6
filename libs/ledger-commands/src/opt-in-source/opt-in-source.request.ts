import { DATA_SOURCES, type DataSource, type OptInSource } from '@consent-ledger/domain';
import { CommandRequest, type CommandShape } from '../command-request';
import { IsOneOf, IsText, Optional } from '../request-fields';

export class OptInSourceRequest extends CommandRequest {
  @IsOneOf(DATA_SOURCES)
  source!: DataSource;

  /** The scope the opt-out was recorded with; omitted: the opt-out for every purpose. */
  @Optional()
  @IsText({ maxLength: 100 })
  purpose?: string;
}

export const OPT_IN_SOURCE: CommandShape<OptInSource, OptInSourceRequest> = {
  request: OptInSourceRequest,
  purpose: { field: 'purpose', accepts: 'purpose', optional: true },
  dataOf: async ({ source, purpose }) => ({ source, ...(purpose !== undefined && { purpose }) }),
};
