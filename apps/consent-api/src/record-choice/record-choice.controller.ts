import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { type CheckedCommandRequest, CommandIntake, scopeToRecord } from '@consent-ledger/ledger-commands';
import type { FastifyReply } from 'fastify';
import { CallingClient, RequireAnyScope, requireScope, requireTouchpoint } from '../api-keys/api-key.guard';
import type { ApiClient } from '../api-keys/api-keys';
import { IdempotencyKey } from '../http/idempotency-key';
import { NoQueryParameters, RequestInvalid } from '../http/request-invalid';
import { RecordChoice } from './record-choice.command';
import { RecordChoiceDocs } from './record-choice.docs';

// On the class, not with the operation's docs: the document's generator also tags an operation
// with the name of a controller that has no tags of its own, and /docs showed it twice.
@ApiTags('commands')
@Controller('v1/commands')
export class RecordChoiceController {
  constructor(
    private readonly intake: CommandIntake,
    private readonly commandBus: CommandBus,
  ) {}

  @Post()
  @HttpCode(201)
  @RecordChoiceDocs()
  @RequireAnyScope('commands:write', 'relationships:write', 'objections:review', 'subjects:erase')
  async record(
    @NoQueryParameters() _none: void,
    @Body() body: unknown,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @CallingClient() client: ApiClient,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const checked = this.intake.check(body);
    if (checked.errors) throw new RequestInvalid(checked.errors);
    mayRecord(client, checked.value);

    const outcome = await this.commandBus.execute(new RecordChoice(checked.value, { client: client.client, idempotencyKey, requestFingerprint: this.intake.fingerprintOf(body) }));
    void reply.status(outcome.status);
    if (outcome.replayed) void reply.header('Idempotency-Replayed', 'true');
    return outcome.body;
  }
}

/** A key bound to touchpoints (the TV menu's key to `tv-menu`) records choices for those touchpoints only. */
function mayRecord(client: ApiClient, { type, request }: CheckedCommandRequest): void {
  requireScope(client, scopeToRecord(type), type);
  requireTouchpoint(client, request.capture.touchpoint, 'choices');
}
