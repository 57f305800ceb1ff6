import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Catalogue, Instant } from '@consent-ledger/domain';
import { createEventStore, type EventStore, eventStoreConfigOf } from '@consent-ledger/event-store';
import {
  CommandIntake,
  FORGET_BATCH_SIZE,
  type IdempotencyRecords,
  IdempotencyRecordsSweep,
  LedgerStreams,
  openPostgresIdempotencyRecords,
  openSqliteIdempotencyRecords,
  publishCatalogue,
  SubjectStreams,
} from '@consent-ledger/ledger-commands';
import { loadCatalogueFile, openServiceVault, secureDataDirectory } from '@consent-ledger/deployment';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { createReadModels, type ProjectedReadModels, type ReadModelStorageOptions } from '@consent-ledger/read-models';
import type { Kafka, Producer } from 'kafkajs';
import { ADS_AND_DATA_KEY_MIN_BYTES, parseAdsAndDataKey, type ProjectorConfig } from './config';
import { ensureTopics, idempotentProducer, kafkaClient } from './kafka/kafka-client';
import { type ConsentTopics, consentTopics } from './kafka/topics';

type Closable = { close(): Promise<void> };

/**
 * Everything the projector keeps state in or talks to, opened once from the configuration and
 * closed in reverse order. Embedded mode shares the API's files: `events.sqlite` (the log),
 * `state.sqlite` (read models, idempotency records) and `keys.sqlite` (personal-data keys).
 */
export class ProjectorResources {
  private constructor(
    readonly config: ProjectorConfig,
    readonly catalogue: Catalogue,
    readonly store: EventStore,
    readonly readModels: ProjectedReadModels & Closable,
    readonly vault: PersonalDataVault,
    readonly idempotencyRecords: IdempotencyRecords,
    readonly intake: CommandIntake,
    readonly streams: SubjectStreams,
    readonly kafka: Kafka,
    readonly producer: Producer,
    readonly topics: ConsentTopics,
    readonly adsAndDataKey: Buffer,
    private readonly closables: readonly Closable[],
  ) {}

  static async open(config: ProjectorConfig, now: () => Instant = () => new Date().toISOString() as Instant): Promise<ProjectorResources> {
    const log = new Logger('data-directory');
    secureDataDirectory(config.dataDir, { sqlite: config.eventStore === 'sqlite', warn: (message) => log.warn(message) });
    const opened: Closable[] = [];
    const keep = <T extends Closable>(closable: T): T => {
      opened.push(closable);
      return closable;
    };
    try {
      const catalogue = loadCatalogueFile(config.catalogueFile);
      // A command from the topic waited on a statement sent into a network cut until TCP gave up,
      // its partition stalled behind it (found in review); the API's limit, for the same statements.
      const answerTimeoutMs = config.databaseAnswerTimeoutMs;
      const store = keep(await createEventStore(eventStoreConfigOf(config, { answerTimeoutMs })));
      const readModelStorage: ReadModelStorageOptions =
        config.eventStore === 'sqlite'
          ? { kind: 'sqlite', file: join(config.dataDir, 'state.sqlite') }
          : { kind: 'postgres', url: config.databaseUrl!, applicationName: `consent-projector-${config.instanceId}`, answerTimeoutMs };
      // Their rules are followed once this instance is elected to keep them (ProjectorRoles), not here:
      // an instance standing by, or another deployment's feed, must not empty the shared tables.
      const readModels = keep(await createReadModels({ storage: readModelStorage, catalogue, store, keepsThem: false }));
      const vault = keep(await openServiceVault(config, store, { answerTimeoutMs, log: new Logger('personal-data') }));
      const idempotencyRecords =
        config.eventStore === 'sqlite'
          ? openSqliteIdempotencyRecords({ file: join(config.dataDir, 'state.sqlite') })
          : await openPostgresIdempotencyRecords({ url: config.databaseUrl!, answerTimeoutMs });
      const idempotencySweep = new IdempotencyRecordsSweep({
        records: idempotencyRecords,
        retentionMs: config.idempotencyRetentionMs,
        now,
        batchSize: config.eventStore === 'sqlite' ? FORGET_BATCH_SIZE.sqlite : FORGET_BATCH_SIZE.postgres,
        log: new Logger('idempotency-records'),
      });
      // Commands from the command topic record the catalogue they are decided under, as over HTTP.
      const published = await publishCatalogue(store, catalogue);
      const ledgerStreams = new LedgerStreams(store, published);
      const intake = new CommandIntake({ catalogue: published, vault, idempotencyRecords, ledgerStreams, now, log: new Logger('command-intake') });
      // Closables close all at once: the sweep's step under way, and answers given but not yet
      // kept, must end before their records close.
      keep({
        close: async () => {
          await Promise.all([idempotencySweep.stop(), intake.whenAnswersKept()]);
          await idempotencyRecords.close();
        },
      });
      const adsAndDataKey = config.adsAndDataKey ?? loadOrCreateDevAdsAndDataKey(join(config.dataDir, 'ads-and-data.key'));

      const topics = consentTopics(config.kafkaTopicPrefix);
      const kafka = kafkaClient({ brokers: config.kafkaBrokers, clientId: `consent-projector-${config.instanceId}` });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, topics, config.kafkaPartitions, config.kafkaReplicationFactor);
      } finally {
        await admin.disconnect();
      }
      const producer = idempotentProducer(kafka);
      await producer.connect();
      keep({ close: () => producer.disconnect() });
      idempotencySweep.start();

      return new ProjectorResources(
        config,
        catalogue,
        store,
        readModels,
        vault,
        idempotencyRecords,
        intake,
        new SubjectStreams(store),
        kafka,
        producer,
        topics,
        adsAndDataKey,
        opened,
      );
    } catch (error) {
      await Promise.allSettled(opened.reverse().map((closable) => closable.close()));
      throw error;
    }
  }

  async close(): Promise<void> {
    const [store, ...others] = this.closables;
    await Promise.allSettled([...others].reverse().map((closable) => closable.close()));
    await store?.close();
  }
}

/**
 * Development only: the keyed-hash secret for Ads & Data, generated once into a file only its
 * owner can read (production takes ADS_AND_DATA_KEY from a secret manager). Losing it re-keys the
 * whole Ads & Data topic, so it is kept, never regenerated.
 */
export function loadOrCreateDevAdsAndDataKey(file: string): Buffer {
  try {
    writeFileSync(file, `${randomBytes(ADS_AND_DATA_KEY_MIN_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
  return parseAdsAndDataKey(readFileSync(file, 'utf8'));
}
