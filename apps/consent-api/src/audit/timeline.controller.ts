import { Controller, Get, Inject, Module, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiQueriesFrom } from '../http/api-schemas';
import { auditorTimeline, BRANDS, type Brand, type Catalogue, type TimelineStep } from '@consent-ledger/domain';
import { IsOneOf } from '@consent-ledger/ledger-commands';
import { IsOptional } from 'class-validator';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { subjectIdOrThrow, validOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { LedgerStorage } from '../ledger/ledger-storage';
import { readSubjectRecord, type SubjectIntegrity, subjectIntegrityOf } from '../subject-export/subject-record';

/** `GET /v1/subjects/{id}/timeline?brand=` */
export class TimelineRequest {
  /** Defaults to the brand of each event. */
  @IsOptional()
  @IsOneOf(BRANDS)
  brand?: Brand;
}

export interface TimelineAnswer {
  readonly subjectId: string;
  readonly streamName: string;
  readonly steps: readonly (TimelineStep & { readonly position: string; readonly hash: string })[];
  /**
   * The stream's hash chain checked as the timeline was read from it: found in review, the timeline
   * of an edited log read as any other, where the CLI's history warns and exits 1.
   */
  readonly integrity: SubjectIntegrity;
}

@ApiTags('proof')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/timeline')
export class TimelineController {
  constructor(
    private readonly storage: LedgerStorage,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  @Get()
  @RequireAnyScope('history:read')
  @ApiOperation({
    summary: 'The auditor timeline: each event, and per purpose it touched the decision as the person had chosen vs as the system knew then',
    description: 'Events in the order the ledger recorded them; late arrivals are marked and show what the system answered when the person made the choice (ADR 0001).',
  })
  @ApiParam({ name: 'subjectId' })
  @ApiQueriesFrom(TimelineRequest)
  async timeline(@Param('subjectId') subjectId: string, @Query() query: unknown): Promise<TimelineAnswer> {
    const { brand } = validOrThrow(TimelineRequest, query);
    const record = await readSubjectRecord(this.storage.eventStore, subjectIdOrThrow(subjectId));
    const steps = auditorTimeline(record.history, this.catalogue, { ...(brand && { brand }) });
    return {
      subjectId,
      streamName: record.streamName,
      steps: steps.map((step, index) => ({ ...step, position: record.history[index].chain.position, hash: record.history[index].chain.hash })),
      integrity: await subjectIntegrityOf(this.storage.eventStore, record.streamName),
    };
  }
}

@Module({ controllers: [TimelineController] })
export class AuditModule {}
