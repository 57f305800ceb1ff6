import { Controller, Get, Header, Inject, Module, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Catalogue } from '@consent-ledger/domain';
import { CataloguesInTheLog } from '@consent-ledger/ledger-commands';
import { CallingClient, RequireAnyScope } from '../api-keys/api-key.guard';
import type { ApiClient } from '../api-keys/api-keys';
import { NoQueryParameters, subjectIdOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { Clock } from '../ledger/clock';
import { LedgerStorage } from '../ledger/ledger-storage';
import { RightsModule } from '../rights/rights.module';
import { RightsRequests } from '../rights/rights-requests';
import { subjectExportOf, type SubjectExport } from './subject-export';
import { readSubjectRecord } from './subject-record';

@ApiTags('rights')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/export')
export class SubjectExportController {
  constructor(
    private readonly storage: LedgerStorage,
    private readonly rightsRequests: RightsRequests,
    private readonly clock: Clock,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
    private readonly catalogues: CataloguesInTheLog,
  ) {}

  @Get()
  @RequireAnyScope('history:read')
  // Personal data in clear must not stay in a proxy's or browser's cache.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Everything held about the subject (access, portability)',
    description:
      'Every choice with its evidence (personal data opened with the subject key when the API key also holds personal-data:read, "withheld" when it does not, "erased" once the subject was erased, or "unreadable" when no key opens it though no erasure is recorded), receipts, current preferences, rights requests, proof retention and an integrity check of the stream. Format: docs/rights.md.',
  })
  @ApiParam({ name: 'subjectId' })
  async export(@Param('subjectId') subjectId: string, @NoQueryParameters() _none: void, @CallingClient() client: ApiClient): Promise<SubjectExport> {
    const record = await readSubjectRecord(this.storage.eventStore, subjectIdOrThrow(subjectId));
    const requests = (await this.rightsRequests.all()).filter((request) => request.status !== 'none' && request.subjectId === subjectId);
    return subjectExportOf(record, {
      store: this.storage.eventStore,
      vault: this.storage.vault,
      catalogue: this.catalogue,
      catalogues: this.catalogues,
      now: this.clock.now(),
      rightsRequests: requests,
      withholdPersonalData: !client.scopes.has('personal-data:read'),
    });
  }
}

@Module({ imports: [RightsModule], controllers: [SubjectExportController] })
export class SubjectExportModule {}
