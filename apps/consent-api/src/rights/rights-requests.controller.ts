import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { type Duration, type Instant, type RightsCapture, type RightsRequest, rightsRequestsDue, type SubjectId, toInstant } from '@consent-ledger/domain';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { type ApiClient } from '../api-keys/api-keys';
import { CallingClient, RequireAnyScope } from '../api-keys/api-key.guard';
import { NoQueryParameters, validOrThrow } from '../http/request-invalid';
import { Clock } from '../ledger/clock';
import { NotInLedger, NotInLedgerFilter } from '../subject-export/not-in-ledger';
import { RightsFailuresFilter } from './rights-failures.filter';
import { RightsRequests } from './rights-requests';
import {
  CompleteRightsRequestBody,
  ExtendRightsRequestBody,
  ListRightsRequestsQuery,
  ReceiveRightsRequestBody,
  RefuseRightsRequestBody,
} from './rights-requests.request';

type KnownRequest = Exclude<RightsRequest, { status: 'none' }>;

export interface RightsRequestView extends KnownRequest {
  /** Only for open requests listed by due date. */
  readonly overdue?: boolean;
  readonly daysLeft?: number;
}

@ApiTags('rights')
@ApiBearerAuth()
@Controller('v1/rights-requests')
@UseFilters(RightsFailuresFilter, NotInLedgerFilter)
@RequireAnyScope('rights:manage')
export class RightsRequestsController {
  constructor(
    private readonly requests: RightsRequests,
    private readonly clock: Clock,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Record a rights request (access, rectification, erasure, objection, portability); due 30 days after receipt' })
  async receive(@Body() body: unknown, @CallingClient() client: ApiClient, @Res({ passthrough: true }) reply: FastifyReply): Promise<KnownRequest> {
    const request = validOrThrow(ReceiveRightsRequestBody, body);
    const { request: recorded, isNew } = await this.requests.handle({
      type: 'ReceiveRightsRequest',
      requestId: request.requestId ?? randomUUID(),
      capture: this.captureOf(client, request.handledBy),
      data: {
        subjectId: request.subjectId as SubjectId,
        kind: request.kind,
        touchpoint: request.touchpoint,
        receivedAt: toInstant(request.receivedAt) as Instant,
      },
    });
    void reply.status(isNew ? 201 : 200);
    return known(recorded);
  }

  @Post(':requestId/extend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extend the response time (at most 60 days in total, decided within the first 30 days)' })
  @ApiParam({ name: 'requestId' })
  async extend(@Param('requestId') requestId: string, @Body() body: unknown, @CallingClient() client: ApiClient): Promise<KnownRequest> {
    const { byDays, reason, detail, handledBy } = validOrThrow(ExtendRightsRequestBody, body);
    const { request } = await this.requests.handle({
      type: 'ExtendRightsRequest',
      requestId,
      capture: this.captureOf(client, handledBy),
      data: { byDays, reason, ...(detail !== undefined && { detail }) },
    });
    return known(request);
  }

  @Post(':requestId/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record that the request was answered; says whether it was on time' })
  @ApiParam({ name: 'requestId' })
  async complete(@Param('requestId') requestId: string, @Body() body: unknown, @CallingClient() client: ApiClient): Promise<KnownRequest> {
    const { handledBy } = validOrThrow(CompleteRightsRequestBody, body);
    const { request } = await this.requests.handle({ type: 'CompleteRightsRequest', requestId, capture: this.captureOf(client, handledBy), data: {} });
    return known(request);
  }

  @Post(':requestId/refuse')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record a refusal on a ground the law allows (unfounded, excessive, identity not verified, legal obligation to keep)' })
  @ApiParam({ name: 'requestId' })
  async refuse(@Param('requestId') requestId: string, @Body() body: unknown, @CallingClient() client: ApiClient): Promise<KnownRequest> {
    const { reason, detail, handledBy } = validOrThrow(RefuseRightsRequestBody, body);
    const { request } = await this.requests.handle({
      type: 'RefuseRightsRequest',
      requestId,
      capture: this.captureOf(client, handledBy),
      data: { reason, ...(detail !== undefined && { detail }) },
    });
    return known(request);
  }

  @Get(':requestId')
  @ApiOperation({ summary: 'One rights request as it stands' })
  @ApiParam({ name: 'requestId' })
  async get(@Param('requestId') requestId: string, @NoQueryParameters() _none: void): Promise<KnownRequest> {
    return known(await this.requests.get(requestId), requestId);
  }

  @Get()
  @ApiOperation({ summary: 'Rights requests; with dueWithin=P7D the open ones due within a week (overdue first), most urgent first' })
  async list(@Query() query: unknown): Promise<{ at: Instant; dueWithin?: string; requests: RightsRequestView[] }> {
    const { dueWithin, subjectId, status } = validOrThrow(ListRightsRequestsQuery, query);
    const at = this.clock.now();
    const all = (await this.requests.all()).filter(
      (request): request is KnownRequest => request.status !== 'none' && (subjectId === undefined || request.subjectId === subjectId),
    );
    if (dueWithin !== undefined) {
      const due = rightsRequestsDue(all, at, dueWithin as Duration);
      return { at, dueWithin, requests: due.map(({ request, overdue, daysLeft }) => ({ ...request, overdue, daysLeft })) };
    }
    return { at, requests: all.filter((request) => status === undefined || request.status === status).sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : 1)) };
  }

  private captureOf(client: ApiClient, handledBy: string | undefined): RightsCapture {
    return { actor: { kind: 'agent', id: handledBy ?? client.client }, recordedAt: this.clock.now() };
  }
}

function known(request: RightsRequest, requestId?: string): KnownRequest {
  if (request.status === 'none') throw new NotInLedger(requestId ? `no rights request ${requestId} was received` : 'no such rights request');
  return request;
}
