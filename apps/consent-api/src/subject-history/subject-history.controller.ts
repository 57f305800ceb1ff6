import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { NoQueryParameters, subjectIdOrThrow } from '../http/request-invalid';
import { SubjectHistory, type SubjectHistoryAnswer } from './subject-history.query';

@ApiTags('history')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/history')
export class SubjectHistoryController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @RequireAnyScope('history:read')
  @ApiOperation({
    summary: "Every event of the subject's stream with its evidence, revision, position and hashes",
    description:
      'Personal data appears only sealed. An unknown subject has an empty history; a subject whose record the proof-retention job removed has `removals` too (docs/api.md).',
  })
  @ApiParam({ name: 'subjectId' })
  history(@Param('subjectId') subjectId: string, @NoQueryParameters() _none: void): Promise<SubjectHistoryAnswer> {
    return this.queryBus.execute(new SubjectHistory(subjectIdOrThrow(subjectId)));
  }
}
