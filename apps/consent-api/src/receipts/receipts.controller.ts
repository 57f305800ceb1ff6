import { Controller, Get, Inject, Module, Param, Query as QueryParams, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { type Catalogue, consentReceiptOf, type ConsentReceipt, consentReceiptsOf, type Instant, type ProvenLedgerEvent, toInstant } from '@consent-ledger/domain';
import { isEventId } from '@consent-ledger/event-store';
import { CataloguesInTheLog } from '@consent-ledger/ledger-commands';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { ApiQueriesFrom } from '../http/api-schemas';
import { RequestInvalid, subjectIdOrThrow, validQueryOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { Clock } from '../ledger/clock';
import { LedgerStorage } from '../ledger/ledger-storage';
import { NotInLedger, NotInLedgerFilter } from '../subject-export/not-in-ledger';
import { readSubjectRecord } from '../subject-export/subject-record';
import { ReceiptsRequest } from './receipts.request';

/**
 * A receipt tells things the later history decides (a consent renewed, what ended it, until when
 * its proof is kept), so the same receipt reads differently as the log grows. It says as of when
 * it was issued, and `knownAt` issues it again as it was then (found in review: a receipt the
 * person kept no longer matched the one served, and nothing told drift from tampering).
 */
export type IssuedReceipt = ConsentReceipt & { readonly issuedAt: Instant };

const KNOWN_AT = { knownAt: 'the receipt as issued then: only what the log had received by that instant (default now)' };

@ApiTags('proof')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/receipts')
@UseFilters(NotInLedgerFilter)
export class ReceiptsController {
  constructor(
    private readonly storage: LedgerStorage,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly catalogues: CataloguesInTheLog,
  ) {}

  @Get(':eventId')
  @RequireAnyScope('history:read')
  @ApiOperation({
    summary: 'The consent receipt of one recorded choice',
    description: 'Kantara Consent Receipt 1.1 and ISO/IEC TS 27560 fields, with the event hash and chain position (docs/receipts.md).',
  })
  @ApiParam({ name: 'subjectId' })
  @ApiParam({ name: 'eventId' })
  @ApiQueriesFrom(ReceiptsRequest, KNOWN_AT)
  async receipt(@Param('subjectId') subjectId: string, @Param('eventId') eventId: string, @QueryParams() query: unknown): Promise<IssuedReceipt> {
    const asked = validQueryOrThrow(ReceiptsRequest, query);
    // Every event id is a UUID: anything else is a mistake of the caller's, not repeated in a 404.
    if (!isEventId(eventId)) throw new RequestInvalid([{ field: 'eventId', message: 'must be the id of an event of the subject (a UUID, as in its history)' }]);
    const { history, issuedAt } = await this.historyAsIssued(subjectId, asked);
    const event = history.find((each) => each.eventId === eventId.toLowerCase());
    // In the client's own terms: the stream name is how the store files the subject, no concern of
    // the caller's (found in review: the 404 named it).
    if (!event) throw new NotInLedger(`subject ${subjectId} had no event ${eventId} by ${issuedAt}`);
    return { ...consentReceiptOf(event, history, this.catalogue, await this.catalogues.for([event])), issuedAt };
  }

  @Get()
  @RequireAnyScope('history:read')
  @ApiOperation({ summary: "The receipts of every choice in the subject's ledger, oldest first" })
  @ApiParam({ name: 'subjectId' })
  @ApiQueriesFrom(ReceiptsRequest, KNOWN_AT)
  async receipts(@Param('subjectId') subjectId: string, @QueryParams() query: unknown): Promise<{ subjectId: string; issuedAt: Instant; receipts: ConsentReceipt[] }> {
    const { history, issuedAt } = await this.historyAsIssued(subjectId, validQueryOrThrow(ReceiptsRequest, query));
    return { subjectId, issuedAt, receipts: consentReceiptsOf(history, this.catalogue, await this.catalogues.for(history)) };
  }

  /** The subject's history as the log held it when the receipts are issued. */
  private async historyAsIssued(subjectId: string, { knownAt }: ReceiptsRequest): Promise<{ history: readonly ProvenLedgerEvent[]; issuedAt: Instant }> {
    const { history } = await readSubjectRecord(this.storage.eventStore, subjectIdOrThrow(subjectId));
    if (knownAt === undefined) return { history, issuedAt: this.clock.now() };
    const issuedAt = toInstant(knownAt) as Instant;
    // A receipt "issued" in 2099 would be a document anyone could make, claiming the log as it
    // will stand (found in review).
    if (issuedAt > this.clock.now()) throw new RequestInvalid([{ field: 'knownAt', message: 'must not be later than now: a receipt is issued as the log stood then' }]);
    return { history: history.filter((event) => event.data.capture.recordedAt <= issuedAt), issuedAt };
  }
}

@Module({ controllers: [ReceiptsController] })
export class ReceiptsModule {}
