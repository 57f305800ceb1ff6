import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Catalogue } from '@consent-ledger/domain';
import { createEventStore, type EventStore, eventStoreConfigOf, failureClassesOf, type StoreHealth } from '@consent-ledger/event-store';
import {
  FORGET_BATCH_SIZE,
  type IdempotencyRecords,
  IdempotencyRecordsSweep,
  openPostgresIdempotencyRecords,
  openSqliteIdempotencyRecords,
} from '@consent-ledger/ledger-commands';
import { nestLogOf, openServiceVault, secureDataDirectory } from '@consent-ledger/deployment';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { createReadModels, type ProjectedReadModels, type Projections, type ReadModelStorageOptions, startProjections } from '@consent-ledger/read-models';
import type { ApiConfig } from '../config';
import type { Clock } from './clock';

type ClosableReadModels = ProjectedReadModels & { close(): Promise<void> };

/**
 * Everything the API keeps state in, opened once from the configuration. Embedded default: the log
 * in `events.sqlite`, idempotency records and read models in `state.sqlite`, personal-data keys in
 * `keys.sqlite`, kept in separate files so that a copy of the log never carries the keys. With
 * PostgreSQL (or KurrentDB for the log), everything but the log lives in `DATABASE_URL`.
 */
export class LedgerStorage {
  private constructor(
    readonly eventStore: EventStore,
    readonly idempotencyRecords: IdempotencyRecords,
    /** Forgets idempotency records older than IDEMPOTENCY_RETENTION, hourly; stopped before they are closed. */
    readonly idempotencySweep: IdempotencyRecordsSweep,
    readonly vault: PersonalDataVault,
    readonly readModels: ClosableReadModels,
    private readonly projections: Projections | undefined,
  ) {}

  static async open(config: ApiConfig, catalogue: Catalogue, clock: Clock): Promise<LedgerStorage> {
    const log = new Logger('data-directory');
    secureDataDirectory(config.dataDir, { sqlite: config.eventStore === 'sqlite', warn: (message) => log.warn(message) });
    const opened: Array<{ close(): Promise<void> }> = [];
    const keep = <T extends { close(): Promise<void> }>(closable: T): T => {
      opened.push(closable);
      return closable;
    };
    // Every store the requests use waits this long at most for PostgreSQL's answer to one of their
    // statements; maintenance (migrations, verify, removals, rebuilds, the sweep) waits as long as it takes.
    const answerTimeoutMs = config.databaseAnswerTimeoutMs;
    try {
      const eventStore = keep(await createEventStore(eventStoreConfigOf(config, { answerTimeoutMs })));
      const idempotencyRecords = keep(
        config.eventStore === 'sqlite'
          ? openSqliteIdempotencyRecords({ file: join(config.dataDir, 'state.sqlite') })
          : await openPostgresIdempotencyRecords({ url: config.databaseUrl!, answerTimeoutMs }),
      );
      const vault = keep(await openServiceVault(config, eventStore, { answerTimeoutMs, log: new Logger('personal-data') }));
      const readModelStorage: ReadModelStorageOptions =
        config.eventStore === 'sqlite'
          ? { kind: 'sqlite', file: join(config.dataDir, 'state.sqlite') }
          : { kind: 'postgres', url: config.databaseUrl!, answerTimeoutMs };
      const readModels = keep(await createReadModels({ storage: readModelStorage, catalogue, store: eventStore, keepsThem: config.projector === 'in-process' }));
      // Through NestJS's logger, as the projector's are, so LOG_FORMAT covers them.
      const projections = config.projector === 'in-process' ? startProjections({ readModels, store: eventStore, log: nestLogOf(new Logger('read-models')) }) : undefined;
      const idempotencySweep = new IdempotencyRecordsSweep({
        records: idempotencyRecords,
        retentionMs: config.idempotencyRetentionMs,
        now: () => clock.now(),
        batchSize: config.eventStore === 'sqlite' ? FORGET_BATCH_SIZE.sqlite : FORGET_BATCH_SIZE.postgres,
        log: new Logger('idempotency-records'),
      });
      idempotencySweep.start();
      return new LedgerStorage(eventStore, idempotencyRecords, idempotencySweep, vault, readModels, projections);
    } catch (error) {
      await Promise.allSettled(opened.reverse().map((closable) => closable.close()));
      throw error;
    }
  }

  async health(): Promise<StoreHealth> {
    try {
      return await this.eventStore.health();
    } catch (error) {
      return { ready: false, detail: failureClassesOf(error) };
    }
  }

  async close(): Promise<void> {
    await this.projections?.stop().catch(() => undefined);
    await this.idempotencySweep.stop();
    await Promise.allSettled([this.readModels.close(), this.idempotencyRecords.close(), this.vault.close()]);
    await this.eventStore.close();
  }
}
