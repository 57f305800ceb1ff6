import { BRANDS, type Brand } from '@consent-ledger/domain';
import { IsInstantText, IsOneOf, Optional } from '@consent-ledger/ledger-commands';

/** `GET /v1/subjects/{id}/preferences?at=&knownAt=&brand=` */
export class SubjectPreferencesRequest {
  /** Defaults to `proximus`: the brand whose decisions are listed. */
  @Optional()
  @IsOneOf(BRANDS)
  brand?: Brand;

  @Optional()
  @IsInstantText()
  at?: string;

  @Optional()
  @IsInstantText()
  knownAt?: string;
}
