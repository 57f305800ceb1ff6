import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Catalogue } from '@consent-ledger/domain';
import { isJsonObject, screenJson } from '@consent-ledger/ledger-commands';
import { MAX_AUDIENCE_SIZE, type AudienceAnswer } from '@consent-ledger/read-models';
import { RequireAnyScope } from '../api-keys/api-key.guard';
import { requestSchema } from '../http/request-schema';
import { NoQueryParameters, purposeOrThrow, RequestInvalid, validOrThrow } from '../http/request-invalid';
import { CATALOGUE } from '../ledger/catalogue-file';
import { Clock } from '../ledger/clock';
import { AudienceDecisions } from './audience-decisions.query';
import { AUDIENCE_BODY_LIMIT, AudienceDecisionsRequest } from './audience-decisions.request';

@ApiTags('decisions')
@ApiBearerAuth()
@Controller('v1/decisions')
export class AudienceDecisionsController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly clock: Clock,
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
  ) {}

  @Post()
  @HttpCode(200)
  @RouteConfig({ bodyLimit: AUDIENCE_BODY_LIMIT })
  @RequireAnyScope('decisions:read')
  @ApiOperation({
    summary: 'Campaign audience filtering',
    description: `Up to ${MAX_AUDIENCE_SIZE} subject ids → { allowed: [...], denied: [{ subjectId, reason }] }. Reflects every command acknowledged before the question was sent.`,
  })
  @ApiBody({ schema: requestSchema(AudienceDecisionsRequest) })
  filter(@NoQueryParameters() _none: void, @Body() body: unknown): Promise<AudienceAnswer> {
    // Named by its field however long the list: the screen's count of the whole body would answer
    // first from 10,020 ids on, naming the body and a limit no document gives.
    if (isJsonObject(body) && Array.isArray(body.subjectIds) && body.subjectIds.length > MAX_AUDIENCE_SIZE) {
      throw new RequestInvalid([{ field: 'subjectIds', message: `must hold at most ${MAX_AUDIENCE_SIZE} ids` }]);
    }
    const screened = screenJson(body, { maxDepth: 3, maxValues: MAX_AUDIENCE_SIZE + 20 });
    if (screened.length > 0) throw new RequestInvalid(screened);
    const { purpose, channel, source, brand, at, subjectIds } = validOrThrow(AudienceDecisionsRequest, body);
    return this.queryBus.execute(
      new AudienceDecisions({
        purpose: purposeOrThrow(this.catalogue, purpose),
        ...(channel !== undefined && { channel }),
        ...(source !== undefined && { source }),
        ...(brand !== undefined && { brand }),
        at: this.clock.instantOr(at),
        subjectIds,
      }),
    );
  }
}
