import { BRANDS, type Brand, CHANNELS, type Channel, DATA_SOURCES, type DataSource } from '@consent-ledger/domain';
import { IsInstantText, IsListOfIds, IsOneOf, IsText, Optional } from '@consent-ledger/ledger-commands';
import { MAX_AUDIENCE_SIZE } from '@consent-ledger/read-models';

/** `POST /v1/decisions`: which of these subjects may a campaign reach for this purpose? */
export class AudienceDecisionsRequest {
  @IsText({ maxLength: 100 })
  purpose!: string;

  @Optional()
  @IsOneOf(CHANNELS)
  channel?: Channel;

  @Optional()
  @IsOneOf(DATA_SOURCES)
  source?: DataSource;

  @Optional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  /** Defaults to now. */
  @Optional()
  @IsInstantText()
  at?: string;

  @IsListOfIds({ maxItems: MAX_AUDIENCE_SIZE })
  subjectIds!: string[];
}

/** 10,000 ids of up to 128 characters, quoted and separated, with room for the other fields. */
export const AUDIENCE_BODY_LIMIT = 2 * 1024 * 1024;
