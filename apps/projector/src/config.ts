import { hostname } from 'node:os';
import { Environment, type LogFormat, readCatalogueFile, readDatabaseAnswerTimeout, readDeploymentLog, readIdempotencyRetention, readKafkaBrokers, readLogFormat, readMasterKey } from '@consent-ledger/deployment';
import type { DeploymentLog } from '@consent-ledger/event-store';

export { ConfigInvalid } from '@consent-ledger/deployment';

export interface ProjectorConfig {
  /** `NODE_ENV=production`: secrets must come from the environment, never from generated files. */
  readonly production: boolean;
  /** Names this instance in leases, Kafka client ids and logs (PROJECTOR_INSTANCE_ID). */
  readonly instanceId: string;
  readonly eventStore: DeploymentLog['eventStore'];
  /** Absolute. Embedded mode: `events.sqlite`, `state.sqlite` (read models), development keys. */
  readonly dataDir: string;
  /** PostgreSQL for the store (`postgres`) and for the read models (`postgres`, `kurrentdb`). */
  readonly databaseUrl?: string;
  readonly eventStoreUrl?: string;
  readonly kafkaBrokers: readonly string[];
  /** Put before every topic name, so test runs and environments sharing a cluster never collide. */
  readonly kafkaTopicPrefix: string;
  readonly kafkaPartitions: number;
  readonly kafkaReplicationFactor: number;
  /** Of the feed's messages: gzip keeps compacted state small on disk; none saves CPU. */
  readonly kafkaCompression: 'gzip' | 'none';
  /**
   * Whether the command intake deletes each command from `consent.commands.v1` once it has
   * answered it (KAFKA_DELETE_ANSWERED_COMMANDS, default true): the personal data channels send
   * there in clear is then gone from the topic within seconds instead of 7 days. False only when
   * another consumer reads the topic.
   */
  readonly deleteAnsweredCommands: boolean;
  readonly catalogueFile: string;
  /** Secret of the keyed hash that keys the Ads & Data topic. Undefined: a development key file in `dataDir`. */
  readonly adsAndDataKey?: Buffer;
  /** Opens the personal-data vault (commands over Kafka seal with it; erasure destroys keys in it). Undefined: the development key file. */
  readonly masterKey?: Buffer;
  /** How often subjects whose decisions change on their own (expiring consents, closing windows) are looked at again. */
  readonly sweepEveryMs: number;
  /** A crashed instance's roles are taken over after at most this long. */
  readonly leaseTtlMs: number;
  /**
   * How long a statement of the event store, the command topic's idempotency records and the vault
   * waits for PostgreSQL's answer (DATABASE_ANSWER_TIMEOUT_SECONDS, as the API); then its connection
   * is closed and the command retried, then answered 503.
   */
  readonly databaseAnswerTimeoutMs: number;
  /** How long answers to the command topic's idempotency keys and first arrivals are kept (IDEMPOTENCY_RETENTION), in milliseconds. */
  readonly idempotencyRetentionMs: number;
  /** `text`, NestJS's lines; `json`, one JSON object per line for a log shipper (LOG_FORMAT). */
  readonly logFormat: LogFormat;
}

export const ADS_AND_DATA_KEY_MIN_BYTES = 32;

/**
 * Reads the environment once and returns a frozen configuration, or throws ConfigInvalid listing
 * every problem at once. The variables the API also reads mean the same here (`@consent-ledger/deployment`).
 */
export function readProjectorConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): ProjectorConfig {
  const environment = new Environment(env, cwd);
  const { problems } = environment;
  const production = environment.text('NODE_ENV') === 'production';
  const log = readDeploymentLog(environment);
  const kafkaBrokers = readKafkaBrokers(environment, 'the projector publishes to Kafka');

  const kafkaTopicPrefix = environment.text('KAFKA_TOPIC_PREFIX') ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(kafkaTopicPrefix)) problems.push('KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-"');

  const kafkaCompression = (environment.text('KAFKA_COMPRESSION') ?? 'gzip') as ProjectorConfig['kafkaCompression'];
  if (kafkaCompression !== 'gzip' && kafkaCompression !== 'none') problems.push(`KAFKA_COMPRESSION must be gzip or none (got "${kafkaCompression}")`);

  const deleteAnsweredCommands = environment.text('KAFKA_DELETE_ANSWERED_COMMANDS') ?? 'true';
  if (deleteAnsweredCommands !== 'true' && deleteAnsweredCommands !== 'false') {
    problems.push(`KAFKA_DELETE_ANSWERED_COMMANDS must be true or false (got "${deleteAnsweredCommands}")`);
  }

  const adsAndDataKey = environment.parsed('ADS_AND_DATA_KEY', parseAdsAndDataKey);
  if (production && environment.text('ADS_AND_DATA_KEY') === undefined) {
    problems.push('ADS_AND_DATA_KEY is required in production (32 or more random bytes, base64): it keys the hash that pseudonymises subjects for Ads & Data');
  }

  const masterKey = readMasterKey(environment);
  if (production && environment.text('MASTER_KEY') === undefined) {
    problems.push('MASTER_KEY is required in production (the same as the API\'s): commands over Kafka seal personal data with the vault');
  }

  const instanceId = environment.text('PROJECTOR_INSTANCE_ID') ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) problems.push('PROJECTOR_INSTANCE_ID must be 1 to 64 letters, digits, ".", "_" or "-"');

  const config: ProjectorConfig = {
    production,
    instanceId,
    ...log,
    kafkaBrokers,
    kafkaTopicPrefix,
    kafkaPartitions: environment.wholeNumber('KAFKA_TOPIC_PARTITIONS', 6, 1, 1000),
    kafkaReplicationFactor: environment.wholeNumber('KAFKA_REPLICATION_FACTOR', 1, 1, 10),
    kafkaCompression,
    deleteAnsweredCommands: deleteAnsweredCommands !== 'false',
    catalogueFile: readCatalogueFile(environment),
    ...(adsAndDataKey !== undefined && { adsAndDataKey }),
    ...(masterKey !== undefined && { masterKey }),
    sweepEveryMs: environment.wholeNumber('SWEEP_INTERVAL_MS', 15_000, 1000, 60_000),
    leaseTtlMs: environment.wholeNumber('LEASE_TTL_MS', 10_000, 1000, 120_000),
    idempotencyRetentionMs: readIdempotencyRetention(environment),
    databaseAnswerTimeoutMs: readDatabaseAnswerTimeout(environment),
    logFormat: readLogFormat(environment),
  };
  environment.assertValid('projector configuration');
  return Object.freeze(config);
}

/** A secret of at least 32 bytes, base64 (standard or URL-safe). */
export function parseAdsAndDataKey(base64: string): Buffer {
  const text = base64.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : Buffer.alloc(0);
  if (key.length < ADS_AND_DATA_KEY_MIN_BYTES) {
    throw new Error(`ADS_AND_DATA_KEY must be base64 of at least ${ADS_AND_DATA_KEY_MIN_BYTES} bytes (got ${key.length})`);
  }
  return key;
}
