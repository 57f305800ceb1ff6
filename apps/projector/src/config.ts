import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseMasterKey } from '@consent-ledger/personal-data';

export type EventStoreKind = 'sqlite' | 'postgres' | 'kurrentdb';

export interface ProjectorConfig {
  /** `NODE_ENV=production`: secrets must come from the environment, never from generated files. */
  readonly production: boolean;
  /** Names this instance in leases, Kafka client ids and logs (PROJECTOR_INSTANCE_ID). */
  readonly instanceId: string;
  readonly eventStore: EventStoreKind;
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
  readonly catalogueFile: string;
  /** Secret of the keyed hash that keys the Ads & Data topic. Undefined: a development key file in `dataDir`. */
  readonly adsAndDataKey?: Buffer;
  /** Opens the personal-data vault (commands over Kafka seal with it; erasure destroys keys in it). Undefined: the development key file. */
  readonly masterKey?: Buffer;
  /** How often subjects whose decisions change on their own (expiring consents, closing windows) are looked at again. */
  readonly sweepEveryMs: number;
  /** A crashed instance's roles are taken over after at most this long. */
  readonly leaseTtlMs: number;
}

export class ConfigInvalid extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the projector configuration is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigInvalid';
  }
}

export const ADS_AND_DATA_KEY_MIN_BYTES = 32;
const EVENT_STORES: readonly EventStoreKind[] = ['sqlite', 'postgres', 'kurrentdb'];
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * Reads the environment once and returns a frozen configuration, or throws ConfigInvalid listing
 * every problem at once. Names match the API's (EVENT_STORE, DATA_DIR, DATABASE_URL, ...), so
 * both apps of one deployment read the same variables.
 */
export function readProjectorConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): ProjectorConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const wholeNumber = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return value;
  };
  const production = text('NODE_ENV') === 'production';

  const eventStore = (text('EVENT_STORE') ?? 'sqlite') as EventStoreKind;
  if (!EVENT_STORES.includes(eventStore)) problems.push(`EVENT_STORE must be one of ${EVENT_STORES.join(', ')} (got "${eventStore}")`);

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// connection string');
  if (databaseUrl === undefined && (eventStore === 'postgres' || eventStore === 'kurrentdb')) problems.push(`DATABASE_URL is required when EVENT_STORE=${eventStore} (the read models live in PostgreSQL)`);

  const eventStoreUrl = text('EVENTSTORE_URL');
  if (eventStore === 'kurrentdb' && eventStoreUrl === undefined) problems.push('EVENTSTORE_URL is required when EVENT_STORE=kurrentdb');

  const kafkaBrokers = (text('KAFKA_BROKERS') ?? '').split(',').map((broker) => broker.trim()).filter(Boolean);
  if (kafkaBrokers.length === 0) problems.push('KAFKA_BROKERS is required: the projector publishes to Kafka (host:port, comma-separated)');
  for (const broker of kafkaBrokers) if (!HOST_PORT.test(broker)) problems.push(`KAFKA_BROKERS must list host:port pairs (got "${broker}")`);

  const kafkaTopicPrefix = text('KAFKA_TOPIC_PREFIX') ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(kafkaTopicPrefix)) problems.push('KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-"');

  const kafkaCompression = (text('KAFKA_COMPRESSION') ?? 'gzip') as ProjectorConfig['kafkaCompression'];
  if (kafkaCompression !== 'gzip' && kafkaCompression !== 'none') problems.push(`KAFKA_COMPRESSION must be gzip or none (got "${kafkaCompression}")`);

  const adsAndDataKey = readSecret(text('ADS_AND_DATA_KEY'), 'ADS_AND_DATA_KEY', problems);
  if (production && adsAndDataKey === undefined && text('ADS_AND_DATA_KEY') === undefined) {
    problems.push('ADS_AND_DATA_KEY is required in production (32 or more random bytes, base64): it keys the hash that pseudonymises subjects for Ads & Data');
  }

  let masterKey: Buffer | undefined;
  const masterKeyText = text('MASTER_KEY');
  if (masterKeyText !== undefined) {
    try {
      masterKey = parseMasterKey(masterKeyText);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  if (production && masterKeyText === undefined) {
    problems.push('MASTER_KEY is required in production (the same as the API\'s): commands over Kafka seal personal data with the vault');
  }

  const instanceId = text('PROJECTOR_INSTANCE_ID') ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) problems.push('PROJECTOR_INSTANCE_ID must be 1 to 64 letters, digits, ".", "_" or "-"');

  const config: ProjectorConfig = {
    production,
    instanceId,
    eventStore,
    dataDir: resolve(cwd, text('DATA_DIR') ?? 'data'),
    ...(databaseUrl !== undefined && { databaseUrl }),
    ...(eventStoreUrl !== undefined && { eventStoreUrl }),
    kafkaBrokers: Object.freeze(kafkaBrokers),
    kafkaTopicPrefix,
    kafkaPartitions: wholeNumber('KAFKA_TOPIC_PARTITIONS', 6, 1, 1000),
    kafkaReplicationFactor: wholeNumber('KAFKA_REPLICATION_FACTOR', 1, 1, 10),
    kafkaCompression,
    catalogueFile: resolve(cwd, text('CATALOGUE_FILE') ?? 'catalogues/proximus.json'),
    ...(adsAndDataKey !== undefined && { adsAndDataKey }),
    ...(masterKey !== undefined && { masterKey }),
    sweepEveryMs: wholeNumber('SWEEP_INTERVAL_MS', 15_000, 1000, 60_000),
    leaseTtlMs: wholeNumber('LEASE_TTL_MS', 10_000, 1000, 120_000),
  };
  if (problems.length > 0) throw new ConfigInvalid(problems);
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

function readSecret(value: string | undefined, name: string, problems: string[]): Buffer | undefined {
  if (value === undefined) return undefined;
  try {
    return parseAdsAndDataKey(value);
  } catch (error) {
    problems.push((error as Error).message.replace('ADS_AND_DATA_KEY', name));
    return undefined;
  }
}
