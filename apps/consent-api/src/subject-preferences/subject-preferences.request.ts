import { BRANDS, type Brand } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf } from '@consent-ledger/ledger-commands';
import { IsOptional } from 'class-validator';

/** `GET /v1/subjects/{id}/preferences?at=&knownAt=&brand=` */
export class SubjectPreferencesRequest {
  /** Defaults to `proximus`: the brand whose decisions are listed. */
  @IsOptional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  @IsOptional()
  @IsInstantText()
  at?: string;

  @IsOptional()
  @IsInstantText()
  knownAt?: string;
}
