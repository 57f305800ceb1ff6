import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, IsPseudonymousId, IsText, Optional } from '@consent-ledger/ledger-commands';

/**
 * A `consent.decision` request: the question `GET /v1/subjects/{id}/decision` answers, with the
 * subject id in the body instead of the path. A field sent as null is refused, as in every body
 * over HTTP: a `channel: null` answered as a question without a channel says yes to a channel the
 * asker did not name.
 */
export class DecisionRequest {
  @IsPseudonymousId()
  subjectId!: string;

  @IsText({ maxLength: 100 })
  purpose!: string;

  @Optional()
  @IsOneOf(CHANNELS)
  channel?: Channel;

  @Optional()
  @IsOneOf(DATA_SOURCES)
  source?: DataSource;

  /** Defaults to `proximus`. */
  @Optional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  /** The instant the question is about; defaults to now. */
  @Optional()
  @IsInstantText()
  at?: string;

  /** Answer with only what the ledger had recorded by then. */
  @Optional()
  @IsInstantText()
  knownAt?: string;
}
