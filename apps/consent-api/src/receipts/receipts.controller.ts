import { Controller, Get, Inject, Module, Param, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { type Catalogue, consentReceiptOf, type ConsentReceipt, consentReceiptsOf } from '@consent-ledger/domain';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { NoQueryParameters, subjectIdOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { LedgerStorage } from '../ledger/ledger-storage';
import { NotInLedger, NotInLedgerFilter } from '../subject-export/not-in-ledger';
import { readSubjectRecord } from '../subject-export/subject-record';

@ApiTags('proof')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/receipts')
@UseFilters(NotInLedgerFilter)
export class ReceiptsController {
  constructor(
    private readonly storage: LedgerStorage,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  @Get(':eventId')
  @RequireAnyScope('history:read')
  @ApiOperation({
    summary: 'The consent receipt of one recorded choice',
    description: 'Kantara Consent Receipt 1.1 and ISO/IEC TS 27560 fields, with the event hash and chain position (docs/receipts.md).',
  })
  @ApiParam({ name: 'subjectId' })
  @ApiParam({ name: 'eventId' })
  async receipt(@Param('subjectId') subjectId: string, @Param('eventId') eventId: string, @NoQueryParameters() _none: void): Promise<ConsentReceipt> {
    const { history, streamName } = await readSubjectRecord(this.storage.eventStore, subjectIdOrThrow(subjectId));
    const event = history.find((each) => each.eventId === eventId.toLowerCase());
    if (!event) throw new NotInLedger(`${streamName} holds no event ${eventId}`);
    return consentReceiptOf(event, history, this.catalogue);
  }

  @Get()
  @RequireAnyScope('history:read')
  @ApiOperation({ summary: "The receipts of every choice in the subject's ledger, oldest first" })
  @ApiParam({ name: 'subjectId' })
  async receipts(@Param('subjectId') subjectId: string, @NoQueryParameters() _none: void): Promise<{ subjectId: string; receipts: ConsentReceipt[] }> {
    const { history } = await readSubjectRecord(this.storage.eventStore, subjectIdOrThrow(subjectId));
    return { subjectId, receipts: consentReceiptsOf(history, this.catalogue) };
  }
}

@Module({ controllers: [ReceiptsController] })
export class ReceiptsModule {}
