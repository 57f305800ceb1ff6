import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, IsText } from '@consent-ledger/ledger-commands';
import { IsOptional } from 'class-validator';

/** `GET /v1/subjects/{id}/decision?purpose=&channel=&source=&brand=&at=&knownAt=` */
export class SubjectDecisionRequest {
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

  /** The instant the question is about (what the person had chosen by then); defaults to now. */
  @IsOptional()
  @IsInstantText()
  at?: string;

  /** Answer with only what the ledger had recorded by then (ADR 0001). */
  @IsOptional()
  @IsInstantText()
  knownAt?: string;
}
