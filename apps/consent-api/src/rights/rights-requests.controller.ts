import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import {
  type CompleteRightsRequest,
  type Duration,
  type ExtendRightsRequest,
  type Instant,
  type ReceiveRightsRequest,
  type RefuseRightsRequest,
  type RightsCapture,
  type RightsRequest,
  type RightsRequestCommand,
  rightsRequestsDue,
  type SubjectId,
  toInstant,
} from '@consent-ledger/domain';
import { START } from '@consent-ledger/event-store';
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { type ApiClient } from '../api-keys/api-keys';
import { CallingClient, RequireAnyScope, requireTouchpoint } from '../api-keys/api-key.guard';
import { ApiQueriesFrom } from '../http/api-schemas';
import { IdempotencyKey } from '../http/idempotency-key';
import { cursorOf, readCursor } from '../http/pages';
import { requestSchema } from '../http/request-schema';
import { NoQueryParameters, pseudonymousPathId, validOrThrow } from '../http/request-invalid';
import { Clock } from '../ledger/clock';
import { NotInLedger, NotInLedgerFilter } from '../subject-export/not-in-ledger';
import { requestIdFor, RightsRequests } from './rights-requests';
import { RightsRequestIntake, type RightsOutcome } from './rights-requests-intake';
import {
  CompleteRightsRequestBody,
  ExtendRightsRequestBody,
  ListRightsRequestsQuery,
  ReceiveRightsRequestBody,
  RefuseRightsRequestBody,
  RIGHTS_REQUESTS_PER_PAGE,
} from './rights-requests.request';

export type KnownRightsRequest = Exclude<RightsRequest, { status: 'none' }>;

export interface RightsRequestView extends KnownRightsRequest {
  /** Only for open requests listed by due date. */
  readonly overdue?: boolean;
  readonly daysLeft?: number;
}

export interface RightsRequestList {
  readonly at: Instant;
  /** As asked: the list is then of open requests falling due. */
  readonly dueWithin?: string;
  readonly requests: readonly RightsRequestView[];
  /** Where the next page starts (`after`); null on the last page. */
  readonly next: string | null;
}

const ApiIdempotencyKey = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'A retry with the same key and call gets the first answer (Idempotency-Replayed: true) and records nothing new; the same key with another call is a 409. Kept in clear with what it records: a key holding an e-mail address or phone number, a national register number written YY.MM.DD-SSS.CC or an IBAN (compact or in groups of four) is a 400.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
  });

/** The body as validated: the documentation is generated from the request class. Complete takes none. */
const ApiBodyFrom = (requestClass: Function, required = true) => ApiBody({ required, schema: requestSchema(requestClass) });

/** A step in a request already received (`POST /v1/rights-requests/{id}/<step>`): 200, retried by its key. */
const RequestStep = (step: string, summary: string, body: Function, bodyRequired = true) =>
  applyDecorators(Post(`:requestId/${step}`), HttpCode(200), ApiOperation({ summary }), ApiParam({ name: 'requestId' }), ApiIdempotencyKey(), ApiBodyFrom(body, bodyRequired));

@ApiTags('rights')
@ApiBearerAuth()
@Controller('v1/rights-requests')
@UseFilters(NotInLedgerFilter)
@RequireAnyScope('rights:manage')
export class RightsRequestsController {
  constructor(
    private readonly requests: RightsRequests,
    private readonly intake: RightsRequestIntake,
    private readonly clock: Clock,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Record a rights request (access, rectification, erasure, objection, portability); due 30 days after receipt' })
  @ApiIdempotencyKey()
  @ApiBodyFrom(ReceiveRightsRequestBody)
  async receive(
    @NoQueryParameters() _none: void,
    @Body() body: unknown,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CallingClient() client: ApiClient,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RightsOutcome['body']> {
    const request = validOrThrow(ReceiveRightsRequestBody, body);
    requireTouchpoint(client, request.touchpoint, 'rights requests');
    // Without a ticket id, a retry under the key must land on the request its first attempt made.
    const requestId = request.requestId ?? (idempotencyKey === undefined ? randomUUID() : requestIdFor({ client: client.client, idempotencyKey }));
    const command: ReceiveRightsRequest = {
      type: 'ReceiveRightsRequest',
      requestId,
      capture: this.captureOf(client, request.handledBy),
      data: {
        subjectId: request.subjectId as SubjectId,
        kind: request.kind,
        touchpoint: request.touchpoint,
        receivedAt: toInstant(request.receivedAt) as Instant,
      },
    };
    return this.answer(command, { call: 'receive', body }, { client, idempotencyKey, reply });
  }

  @RequestStep('extend', 'Extend the response time (at most 60 days in total, decided within the first 30 days)', ExtendRightsRequestBody)
  async extend(
    @Param('requestId') requestId: string,
    @NoQueryParameters() _none: void,
    @Body() body: unknown,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CallingClient() client: ApiClient,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RightsOutcome['body']> {
    const { byDays, reason, detail, handledBy } = validOrThrow(ExtendRightsRequestBody, body);
    const command: ExtendRightsRequest = {
      type: 'ExtendRightsRequest',
      requestId: pseudonymousPathId('requestId', requestId),
      capture: this.captureOf(client, handledBy),
      data: { byDays, reason, ...(detail !== undefined && { detail }) },
    };
    return this.answer(command, { call: 'extend', requestId, body }, { client, idempotencyKey, reply });
  }

  @RequestStep('complete', 'Record that the request was answered; says whether it was on time', CompleteRightsRequestBody, false)
  async complete(
    @Param('requestId') requestId: string,
    @NoQueryParameters() _none: void,
    @Body() body: unknown,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CallingClient() client: ApiClient,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RightsOutcome['body']> {
    const { handledBy } = validOrThrow(CompleteRightsRequestBody, body);
    const command: CompleteRightsRequest = { type: 'CompleteRightsRequest', requestId: pseudonymousPathId('requestId', requestId), capture: this.captureOf(client, handledBy), data: {} };
    return this.answer(command, { call: 'complete', requestId, body }, { client, idempotencyKey, reply });
  }

  @RequestStep('refuse', 'Record a refusal on a ground the law allows (unfounded, excessive, identity not verified, legal obligation to keep)', RefuseRightsRequestBody)
  async refuse(
    @Param('requestId') requestId: string,
    @NoQueryParameters() _none: void,
    @Body() body: unknown,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CallingClient() client: ApiClient,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RightsOutcome['body']> {
    const { reason, detail, handledBy } = validOrThrow(RefuseRightsRequestBody, body);
    const command: RefuseRightsRequest = {
      type: 'RefuseRightsRequest',
      requestId: pseudonymousPathId('requestId', requestId),
      capture: this.captureOf(client, handledBy),
      data: { reason, ...(detail !== undefined && { detail }) },
    };
    return this.answer(command, { call: 'refuse', requestId, body }, { client, idempotencyKey, reply });
  }

  @Get(':requestId')
  @ApiOperation({ summary: 'One rights request as it stands' })
  @ApiParam({ name: 'requestId' })
  async get(@Param('requestId') requestId: string, @NoQueryParameters() _none: void): Promise<KnownRightsRequest> {
    return known(await this.requests.get(pseudonymousPathId('requestId', requestId)), requestId);
  }

  @Get()
  @ApiOperation({
    summary:
      'Rights requests a page at a time, in the order they were recorded; with dueWithin=P7D the open ones due within a week, overdue first, most urgent first. Follow next (as after) for the next page',
  })
  @ApiQueriesFrom(ListRightsRequestsQuery, {
    dueWithin: 'open requests due by now plus this many days (P7D), overdue ones included, most urgent first',
    subjectId: "only this subject's requests",
    status: 'only requests in this state; with dueWithin only open',
    limit: `the most requests one page holds (default ${RIGHTS_REQUESTS_PER_PAGE.byDefault}, at most ${RIGHTS_REQUESTS_PER_PAGE.max})`,
    after: 'the next of the page before, unchanged, with the same dueWithin, subjectId and status',
  })
  async list(@Query() query: unknown): Promise<RightsRequestList> {
    const { dueWithin, subjectId, status, limit, after } = validOrThrow(ListRightsRequestsQuery, query);
    const pageSize = limit === undefined ? RIGHTS_REQUESTS_PER_PAGE.byDefault : Number(limit);
    const list = listAsked({ dueWithin, subjectId, status });
    const at = this.clock.now();
    const isAsked = (request: RightsRequest): request is KnownRightsRequest =>
      request.status !== 'none' && (subjectId === undefined || request.subjectId === subjectId) && (dueWithin !== undefined || status === undefined || request.status === status);
    if (dueWithin !== undefined) {
      const from = after === undefined ? undefined : readCursor(after, list, deadlineIn);
      const due = rightsRequestsDue((await this.requests.all()).filter(isAsked), at, dueWithin as Duration).filter(
        ({ request }) => from === undefined || request.dueAt > from.dueAt || (request.dueAt === from.dueAt && request.requestId > from.requestId),
      );
      const page = due.slice(0, pageSize);
      const last = page.at(-1)?.request;
      return {
        at,
        dueWithin,
        requests: page.map(({ request, overdue, daysLeft }) => ({ ...request, overdue, daysLeft })),
        next: due.length > pageSize && last ? cursorOf(list, { dueAt: last.dueAt, requestId: last.requestId }) : null,
      };
    }
    const from = after === undefined ? START : readCursor(after, list, receiptIn);
    const { requests, more } = await this.requests.recordedAfter(from, pageSize, isAsked);
    const last = requests.at(-1);
    return {
      at,
      requests: requests.map(({ request }) => request as KnownRightsRequest),
      next: more && last ? cursorOf(list, { receipt: String(last.receiptPosition) }) : null,
    };
  }

  /**
   * Decides the call, once per idempotency key: the answer is the request as it stands, or the
   * rule it broke. `call` is what a retry must repeat exactly: the route, the request id and the body.
   */
  private async answer(
    command: RightsRequestCommand,
    call: unknown,
    { client, idempotencyKey, reply }: { client: ApiClient; idempotencyKey: string | undefined; reply: FastifyReply },
  ): Promise<RightsOutcome['body']> {
    const outcome = await this.intake.execute(command, { client: client.client, idempotencyKey, requestFingerprint: this.intake.fingerprintOf(call) });
    void reply.status(outcome.status);
    if (outcome.replayed) void reply.header('Idempotency-Replayed', 'true');
    return outcome.body;
  }

  private captureOf(client: ApiClient, handledBy: string | undefined): RightsCapture {
    return { actor: { kind: 'agent', id: handledBy ?? client.client }, recordedAt: this.clock.now() };
  }
}

/**
 * The list a cursor continues: the question's parameters, hashed (a cursor carries no subject id),
 * so that a page asked with other parameters than the first is refused rather than answered from
 * the middle of another list.
 */
function listAsked(question: { dueWithin?: string; subjectId?: string; status?: string }): string {
  const asked = createHash('sha256')
    .update(JSON.stringify([question.dueWithin ?? null, question.subjectId ?? null, question.status ?? null]))
    .digest('base64url')
    .slice(0, 16);
  return `rights-requests:${asked}`;
}

/** Requests by recording order continue after the log position of the last one's receipt. */
function receiptIn({ receipt }: Record<string, unknown>): bigint | undefined {
  return typeof receipt === 'string' && /^\d{1,20}$/.test(receipt) ? BigInt(receipt) : undefined;
}

/** Requests falling due continue after the last one's deadline, ties in request id order (as `rightsRequestsDue` sorts them). */
function deadlineIn({ dueAt, requestId }: Record<string, unknown>): { dueAt: string; requestId: string } | undefined {
  return typeof dueAt === 'string' && typeof requestId === 'string' ? { dueAt, requestId } : undefined;
}

function known(request: RightsRequest, requestId?: string): KnownRightsRequest {
  if (request.status === 'none') throw new NotInLedger(requestId ? `no rights request ${requestId} was received` : 'no such rights request');
  return request;
}
