import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, IsPseudonymousId, IsText } from '@consent-ledger/ledger-commands';
import { IsOptional } from 'class-validator';

/**
 * A `consent.decision` request: the question `GET /v1/subjects/{id}/decision` answers, with the
 * subject id in the body instead of the path.
 */
export class DecisionRequest {
  @IsPseudonymousId()
  subjectId!: string;

  @IsText({ maxLength: 100 })
  purpose!: string;

  @IsOptional()
  @IsOneOf(CHANNELS)
  channel?: Channel;

  @IsOptional()
  @IsOneOf(DATA_SOURCES)
  source?: DataSource;

  /** Defaults to `proximus`. */
  @IsOptional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  /** The instant the question is about; defaults to now. */
  @IsOptional()
  @IsInstantText()
  at?: string;

  /** Answer with only what the ledger had recorded by then. */
  @IsOptional()
  @IsInstantText()
  knownAt?: string;
}
