import { Controller, Get, Module, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../api-keys/api-key.guard';
import { LedgerStorage } from '../ledger/ledger-storage';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly storage: LedgerStorage) {}

  /** Answering at all is liveness; `ready` is whether the event store can take commands. */
  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness (any answer) and readiness of the event store (200 ready, 503 not ready)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply) {
    const store = await this.storage.health();
    void reply.status(store.ready ? 200 : 503);
    if (!store.ready) void reply.header('Retry-After', '2');
    return { status: store.ready ? 'ready' : 'unavailable', store: { kind: this.storage.eventStore.kind, ...store } };
  }
}

@Module({ controllers: [HealthController] })
export class HealthModule {}
