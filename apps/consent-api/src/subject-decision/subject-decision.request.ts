import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, IsText, Optional } from '@consent-ledger/ledger-commands';

/** `GET /v1/subjects/{id}/decision?purpose=&channel=&source=&brand=&at=&knownAt=` */
export class SubjectDecisionRequest {
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

  /** The instant the question is about (what the person had chosen by then); defaults to now. */
  @Optional()
  @IsInstantText()
  at?: string;

  /** Answer with only what the ledger had recorded by then (ADR 0001). */
  @Optional()
  @IsInstantText()
  knownAt?: string;
}
