import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsListOfIds, IsOneOf, IsText } from '@consent-ledger/ledger-commands';
import { MAX_AUDIENCE_SIZE } from '@consent-ledger/read-models';
import { IsOptional } from 'class-validator';

/** `POST /v1/decisions`: which of these subjects may a campaign reach for this purpose? */
export class AudienceDecisionsRequest {
  @IsText({ maxLength: 100 })
  purpose!: string;

  @IsOptional()
  @IsOneOf(CHANNELS)
  channel?: Channel;

  @IsOptional()
  @IsOneOf(DATA_SOURCES)
  source?: DataSource;

  @IsOptional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  /** Defaults to now. */
  @IsOptional()
  @IsInstantText()
  at?: string;

  @IsListOfIds({ maxItems: MAX_AUDIENCE_SIZE })
  subjectIds!: string[];
}

/** 10,000 ids of up to 128 characters, quoted and separated, with room for the other fields. */
export const AUDIENCE_BODY_LIMIT = 2 * 1024 * 1024;
