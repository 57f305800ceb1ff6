import { randomBytes } from 'node:crypto';
import { type ApiConfig, readConfig } from '../../consent-api/src/config';
import { ConfigInvalid, type ProjectorConfig, readProjectorConfig } from './config';

const key = () => randomBytes(32).toString('base64');

describe('projector configuration', () => {
  it('runs embedded on SQLite with development keys when only the brokers are given', () => {
    const config = readProjectorConfig({ KAFKA_BROKERS: '127.0.0.1:9092', PROJECTOR_INSTANCE_ID: 'projector-a' }, '/srv/consent');
    expect(config).toMatchObject({
      production: false,
      instanceId: 'projector-a',
      eventStore: 'sqlite',
      dataDir: '/srv/consent/data',
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaTopicPrefix: '',
      kafkaPartitions: 6,
      catalogueFile: '/srv/consent/catalogues/proximus.json',
      sweepEveryMs: 15_000,
      idempotencyRetentionMs: 30 * 24 * 3_600_000,
    });
    expect(config.adsAndDataKey).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses to start in production without the Ads & Data secret and the master key', () => {
    expect(() => readProjectorConfig({ NODE_ENV: 'production', KAFKA_BROKERS: 'kafka:9092' })).toThrow(/ADS_AND_DATA_KEY is required in production[\s\S]*MASTER_KEY is required/);
  });

  it('takes the production secrets from the environment', () => {
    const config = readProjectorConfig({
      NODE_ENV: 'production',
      KAFKA_BROKERS: 'kafka:9092',
      EVENT_STORE: 'postgres',
      DATABASE_URL: 'postgres://ledger@db/ledger',
      ADS_AND_DATA_KEY: key(),
      MASTER_KEY: key(),
    });
    expect(config.adsAndDataKey).toHaveLength(32);
    expect(config.masterKey).toHaveLength(32);
  });

  it('lists every problem at once', () => {
    let thrown: unknown;
    try {
      readProjectorConfig({ EVENT_STORE: 'mongodb', KAFKA_BROKERS: 'not a broker', ADS_AND_DATA_KEY: 'c2hvcnQ=', KAFKA_TOPIC_PARTITIONS: '0' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigInvalid);
    expect((thrown as ConfigInvalid).problems).toEqual([
      'EVENT_STORE must be one of sqlite, postgres, kurrentdb (got "mongodb")',
      'KAFKA_BROKERS must list host:port pairs separated by commas (got "not a broker")',
      'ADS_AND_DATA_KEY must be base64 of at least 32 bytes (got 5)',
      'KAFKA_TOPIC_PARTITIONS must be a whole number from 1 to 1000 (got "0")',
    ]);
  });

  it('needs PostgreSQL for the read models when the log is not embedded', () => {
    expect(() => readProjectorConfig({ EVENT_STORE: 'postgres', KAFKA_BROKERS: 'kafka:9092' })).toThrow(/DATABASE_URL is required when EVENT_STORE=postgres/);
  });

  it('keeps the command topic\'s idempotency records as long as the API keeps its own, and refuses what the API refuses', () => {
    const env = { KAFKA_BROKERS: 'kafka:9092', IDEMPOTENCY_RETENTION: 'PT36H' };
    expect(readProjectorConfig(env).idempotencyRetentionMs).toBe(readConfig(env).idempotencyRetentionMs);
    expect(() => readProjectorConfig({ ...env, IDEMPOTENCY_RETENTION: '36h' })).toThrow(/IDEMPOTENCY_RETENTION must be an ISO-8601 duration .* \(got "36h"\)/);
  });

  it('gives PostgreSQL as long to answer as the API does, and refuses what the API refuses', () => {
    const env = { KAFKA_BROKERS: 'kafka:9092', DATABASE_ANSWER_TIMEOUT_SECONDS: '4' };
    expect(readProjectorConfig(env).databaseAnswerTimeoutMs).toBe(readConfig(env).databaseAnswerTimeoutMs);
    expect(readProjectorConfig({ KAFKA_BROKERS: 'kafka:9092' }).databaseAnswerTimeoutMs).toBe(10_000);
    expect(() => readProjectorConfig({ ...env, DATABASE_ANSWER_TIMEOUT_SECONDS: '0' })).toThrow(/DATABASE_ANSWER_TIMEOUT_SECONDS must be a whole number from 1 to 600 \(got "0"\)/);
  });

  it('deletes answered commands from the command topic unless told not to, as another consumer of the topic needs', () => {
    expect(readProjectorConfig({ KAFKA_BROKERS: 'kafka:9092' }).deleteAnsweredCommands).toBe(true);
    expect(readProjectorConfig({ KAFKA_BROKERS: 'kafka:9092', KAFKA_DELETE_ANSWERED_COMMANDS: 'false' }).deleteAnsweredCommands).toBe(false);
    expect(() => readProjectorConfig({ KAFKA_BROKERS: 'kafka:9092', KAFKA_DELETE_ANSWERED_COMMANDS: 'no' })).toThrow(/KAFKA_DELETE_ANSWERED_COMMANDS must be true or false \(got "no"\)/);
  });

  it('writes logs in the format the API writes them, and refuses what the API refuses', () => {
    const env = { KAFKA_BROKERS: 'kafka:9092', LOG_FORMAT: 'json' };
    expect(readProjectorConfig(env).logFormat).toBe('json');
    expect(readConfig(env).logFormat).toBe('json');
    expect(() => readProjectorConfig({ ...env, LOG_FORMAT: 'logfmt' })).toThrow(/LOG_FORMAT must be one of text, json \(got "logfmt"\)/);
  });

  it('reads the deployment the way the API does, and refuses what the API refuses', () => {
    const env = { EVENT_STORE: 'kurrentdb', DATABASE_URL: 'postgres://ledger@db/ledger', EVENTSTORE_URL: 'http://events:2113', KAFKA_BROKERS: 'kafka:9092' };
    expect(() => readProjectorConfig(env)).toThrow(/EVENTSTORE_URL must be a kurrentdb:\/\/ \(or esdb:\/\/\) connection string/);
    expect(() => readConfig(env)).toThrow(/EVENTSTORE_URL must be a kurrentdb:\/\/ \(or esdb:\/\/\) connection string/);

    const both = { ...env, EVENTSTORE_URL: 'kurrentdb://events:2113?tls=false', DATA_DIR: 'state' };
    const where = ({ eventStore, dataDir, databaseUrl, eventStoreUrl, catalogueFile }: ProjectorConfig | ApiConfig) => ({
      eventStore,
      dataDir,
      databaseUrl,
      eventStoreUrl,
      catalogueFile,
    });
    const projector = readProjectorConfig(both, '/srv/consent');
    expect(where(projector)).toEqual(where(readConfig(both, '/srv/consent')));
    expect(projector.dataDir).toBe('/srv/consent/state');
  });
});
