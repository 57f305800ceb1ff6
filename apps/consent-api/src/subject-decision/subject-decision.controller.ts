import { Controller, Get, Inject, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiQueriesFrom } from '../http/api-schemas';
import { type Catalogue, type Decision, type Instant, toInstant } from '@consent-ledger/domain';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { purposeOrThrow, subjectIdOrThrow, validQueryOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { Clock } from '../ledger/clock';
import { SubjectDecision } from './subject-decision.query';
import { SubjectDecisionRequest } from './subject-decision.request';

@ApiTags('decisions')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/decision')
export class SubjectDecisionController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly clock: Clock,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  @Get()
  @RequireAnyScope('decisions:read')
  @ApiOperation({
    summary: 'May this purpose be processed for this subject?',
    description:
      '{ allowed, reason, legalBasis, basedOn: [{ eventId, revision }], validUntil }, and asked without a channel or a source, the channels or sources it may use. Reflects every command acknowledged before the question was sent.',
  })
  @ApiParam({ name: 'subjectId' })
  @ApiQueriesFrom(SubjectDecisionRequest, {
    purpose: 'a purpose id of GET /v1/purposes',
    channel: 'without one, the answer is about the purpose on any channel: ask with the channel you will use',
    source: 'without one, the answer is about the purpose with any of its sources, and lists those it may use (sources)',
    at: 'default now',
    knownAt: 'only what was recorded by then',
  })
  decide(@Param('subjectId') subjectId: string, @QueryParams() query: unknown): Promise<Decision> {
    const { purpose, channel, source, brand, at, knownAt } = validQueryOrThrow(SubjectDecisionRequest, query);
    return this.queryBus.execute(
      new SubjectDecision(subjectIdOrThrow(subjectId), {
        purpose: purposeOrThrow(this.catalogue, purpose),
        ...(channel !== undefined && { channel }),
        ...(source !== undefined && { source }),
        ...(brand !== undefined && { brand }),
        at: this.clock.instantOr(at),
        ...(knownAt !== undefined && { knownAt: toInstant(knownAt) as Instant }),
      }),
    );
  }
}
