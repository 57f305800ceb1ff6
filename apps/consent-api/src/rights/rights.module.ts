import { Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Catalogue } from '@consent-ledger/domain';
import { SubjectStreams } from '@consent-ledger/ledger-commands';
import { CATALOGUE } from '../ledger/catalogue-file';
import { Clock } from '../ledger/clock';
import { LedgerStorage } from '../ledger/ledger-storage';
import { ProofRetentionController } from './proof-retention.controller';
import { ProofRetentionJob } from './proof-retention.job';
import { RightsRequestsController } from './rights-requests.controller';
import { RightsRequests } from './rights-requests';
import { RightsRequestIntake } from './rights-requests-intake';

/**
 * Rights requests with their deadlines, and the proof-retention job. The job runs on the schedule
 * `PROOF_RETENTION_EVERY_HOURS` sets (daily by default; tests turn it off and trigger it), and
 * when asked (`POST /v1/proof-retention/runs`, `npm run audit -- retention`).
 */
@Module({
  controllers: [RightsRequestsController, ProofRetentionController],
  providers: [
    { provide: RightsRequests, useFactory: (storage: LedgerStorage) => new RightsRequests(storage.eventStore), inject: [LedgerStorage] },
    {
      provide: RightsRequestIntake,
      useFactory: (storage: LedgerStorage, requests: RightsRequests, clock: Clock) =>
        new RightsRequestIntake({ requests, idempotencyRecords: storage.idempotencyRecords, vault: storage.vault, now: () => clock.now(), log: new Logger('rights') }),
      inject: [LedgerStorage, RightsRequests, Clock],
    },
    {
      provide: ProofRetentionJob,
      useFactory: (storage: LedgerStorage, catalogue: Catalogue, clock: Clock, streams: SubjectStreams, rightsRequests: RightsRequests) =>
        new ProofRetentionJob({ store: storage.eventStore, vault: storage.vault, catalogue, clock, rightsRequests, removed: (subjectId) => streams.forget(subjectId) }),
      inject: [LedgerStorage, CATALOGUE, Clock, SubjectStreams, RightsRequests],
    },
  ],
  exports: [RightsRequests, ProofRetentionJob],
})
export class RightsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ProofRetentionJob) private readonly job: ProofRetentionJob,
    @Inject(RightsRequests) private readonly requests: RightsRequests,
  ) {}

  /** The request index reads the whole log once; do it at boot, not in the first export's request. */
  onApplicationBootstrap(): void {
    this.requests.all().catch((error: unknown) => new Logger('rights').warn(`rights-request index not warmed: ${(error as Error).message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
  }
}
