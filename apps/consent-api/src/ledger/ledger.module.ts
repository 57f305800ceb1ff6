import { type DynamicModule, Global, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Catalogue } from '@consent-ledger/domain';
import { CataloguesInTheLog, CommandIntake, LedgerStreams, SubjectStreams } from '@consent-ledger/ledger-commands';
import { CATALOGUE } from './catalogue-file';
import { Clock } from './clock';
import { LedgerStorage } from './ledger-storage';

export interface LedgerParts {
  readonly storage: LedgerStorage;
  readonly catalogue: Catalogue;
  readonly clock: Clock;
}

/**
 * What every slice runs on, for injection: the storage, the catalogue (`@Inject(CATALOGUE)`), the
 * clock, subjects' streams and the command intake. Global, so a slice module lists only its own
 * controller and handlers.
 */
@Global()
@Module({})
export class LedgerModule implements OnApplicationShutdown {
  constructor(
    private readonly storage: LedgerStorage,
    private readonly intake: CommandIntake,
  ) {}

  static forRoot({ storage, catalogue, clock }: LedgerParts): DynamicModule {
    const subjectStreams = new SubjectStreams(storage.eventStore);
    const ledgerStreams = new LedgerStreams(storage.eventStore, catalogue, subjectStreams);
    const intake = new CommandIntake({
      catalogue,
      vault: storage.vault,
      idempotencyRecords: storage.idempotencyRecords,
      ledgerStreams,
      now: () => clock.now(),
      log: new Logger('ledger'),
    });
    const providers = [
      { provide: LedgerStorage, useValue: storage },
      { provide: CATALOGUE, useValue: catalogue },
      { provide: Clock, useValue: clock },
      { provide: SubjectStreams, useValue: subjectStreams },
      { provide: LedgerStreams, useValue: ledgerStreams },
      { provide: CommandIntake, useValue: intake },
      { provide: CataloguesInTheLog, useValue: new CataloguesInTheLog(storage.eventStore, catalogue) },
    ];
    return { module: LedgerModule, providers, exports: providers.map((provider) => provider.provide) };
  }

  async onApplicationShutdown(): Promise<void> {
    // Answers already given are kept before their records close.
    await this.intake.whenAnswersKept();
    await this.storage.close();
  }
}
