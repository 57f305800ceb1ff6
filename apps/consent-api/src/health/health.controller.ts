import { Controller, Get, Module, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../api-keys/api-key.guard';
import { type EventStore, type StoreHealth } from '@consent-ledger/event-store';
import { LedgerStorage } from '../ledger/ledger-storage';

/** The same body for 200 and 503: monitors read `status`, operators `store.detail`. */
export interface HealthAnswer {
  readonly status: 'ready' | 'unavailable';
  readonly store: StoreHealth & { readonly kind: EventStore['kind'] };
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly storage: LedgerStorage) {}

  /** Answering at all is liveness; `ready` is whether the event store can take commands. */
  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness (any answer) and readiness of the event store (200 ready, 503 not ready)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthAnswer> {
    const store = await this.storage.health();
    void reply.status(store.ready ? 200 : 503);
    if (!store.ready) void reply.header('Retry-After', '2');
    return { status: store.ready ? 'ready' : 'unavailable', store: { kind: this.storage.eventStore.kind, ...store } };
  }
}

@Module({ controllers: [HealthController] })
export class HealthModule {}
