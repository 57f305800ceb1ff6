import { Controller, Get, Param, Query as QueryParams } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiQueriesFrom } from '../http/api-schemas';
import { type Instant, type Preferences, toInstant } from '@consent-ledger/domain';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { subjectIdOrThrow, validQueryOrThrow } from '../http/request-invalid';
import { Clock } from '../ledger/clock';
import { SubjectPreferences } from './subject-preferences.query';
import { SubjectPreferencesRequest } from './subject-preferences.request';

@ApiTags('decisions')
@ApiBearerAuth()
@Controller('v1/subjects/:subjectId/preferences')
export class SubjectPreferencesController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly clock: Clock,
  ) {}

  @Get()
  @RequireAnyScope('decisions:read')
  @ApiOperation({
    summary: "The subject's relationships, the decision for every purpose of the catalogue, restricted channels and opted-out sources",
  })
  @ApiParam({ name: 'subjectId' })
  @ApiQueriesFrom(SubjectPreferencesRequest, { at: 'default now', knownAt: 'only what was recorded by then' })
  preferences(@Param('subjectId') subjectId: string, @QueryParams() query: unknown): Promise<Preferences> {
    const { brand, at, knownAt } = validQueryOrThrow(SubjectPreferencesRequest, query);
    return this.queryBus.execute(
      new SubjectPreferences(subjectIdOrThrow(subjectId), {
        at: this.clock.instantOr(at),
        ...(knownAt !== undefined && { knownAt: toInstant(knownAt) as Instant }),
        ...(brand !== undefined && { brand }),
      }),
    );
  }
}
