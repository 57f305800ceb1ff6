import { ConfigInvalid, readConfig } from './config';

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    readConfig(env, '/srv/consent');
    return [];
  } catch (error) {
    if (error instanceof ConfigInvalid) return [...error.problems];
    throw error;
  }
};

describe('reading the configuration', () => {
  it('runs the embedded default with nothing set', () => {
    expect(readConfig({}, '/srv/consent')).toEqual({
      eventStore: 'sqlite',
      dataDir: '/srv/consent/data',
      kafkaBrokers: [],
      host: '127.0.0.1',
      port: 3000,
      requestTimeoutMs: 30_000,
      databaseAnswerTimeoutMs: 10_000,
      catalogueFile: '/srv/consent/catalogues/proximus.json',
      projector: 'in-process',
      proofRetentionEveryMs: 24 * 3_600_000,
      idempotencyRetentionMs: 30 * 24 * 3_600_000,
      logFormat: 'text',
    });
  });

  it('keeps idempotency records as long as IDEMPOTENCY_RETENTION says, an ISO-8601 duration', () => {
    expect(readConfig({ IDEMPOTENCY_RETENTION: 'PT12H' }, '/srv/consent').idempotencyRetentionMs).toBe(12 * 3_600_000);
    expect(readConfig({ IDEMPOTENCY_RETENTION: 'P2W' }, '/srv/consent').idempotencyRetentionMs).toBe(14 * 24 * 3_600_000);
    expect(readConfig({ IDEMPOTENCY_RETENTION: 'P1DT6H30M' }, '/srv/consent').idempotencyRetentionMs).toBe((30 * 60 + 30) * 60_000);
  });

  it('refuses an IDEMPOTENCY_RETENTION that is not a fixed duration of an hour or more', () => {
    for (const value of ['30 days', '720', 'P1M', 'P1Y', 'P', 'PT', 'P1DT', 'PT30M', 'P3651D']) {
      expect(problemsOf({ IDEMPOTENCY_RETENTION: value })).toEqual([
        `IDEMPOTENCY_RETENTION must be an ISO-8601 duration in weeks, days, hours, minutes or seconds, from PT1H to P3650D, such as P30D or PT12H (got "${value}")`,
      ]);
    }
  });

  it('runs the proof-retention job as often as PROOF_RETENTION_EVERY_HOURS says, or never with 0', () => {
    expect(readConfig({ PROOF_RETENTION_EVERY_HOURS: '6' }, '/srv/consent').proofRetentionEveryMs).toBe(6 * 3_600_000);
    expect(readConfig({ PROOF_RETENTION_EVERY_HOURS: '0' }, '/srv/consent').proofRetentionEveryMs).toBe(0);
    expect(readConfig({ PROOF_RETENTION_EVERY_HOURS: '720' }, '/srv/consent').proofRetentionEveryMs).toBe(720 * 3_600_000);
    expect(problemsOf({ PROOF_RETENTION_EVERY_HOURS: 'daily' })).toEqual([
      'PROOF_RETENTION_EVERY_HOURS must be a number of hours from 0.25 to 8760, or 0 to turn the job off (got "daily")',
    ]);
    // A run every 0.36 s would flood the log with runs.
    expect(problemsOf({ PROOF_RETENTION_EVERY_HOURS: '0.0001' })).toHaveLength(1);
    expect(problemsOf({ PROOF_RETENTION_EVERY_HOURS: '9000' })).toHaveLength(1);
  });

  it('gives a request as many seconds to arrive as REQUEST_TIMEOUT_SECONDS says, from 1 to 600', () => {
    expect(readConfig({ REQUEST_TIMEOUT_SECONDS: '90' }, '/srv/consent').requestTimeoutMs).toBe(90_000);
    expect(problemsOf({ REQUEST_TIMEOUT_SECONDS: '0' })).toEqual(['REQUEST_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "0")']);
  });

  it('gives a statement of a command or decision as many seconds to be answered as DATABASE_ANSWER_TIMEOUT_SECONDS says, from 1 to 600', () => {
    expect(readConfig({ DATABASE_ANSWER_TIMEOUT_SECONDS: '4' }, '/srv/consent').databaseAnswerTimeoutMs).toBe(4_000);
    expect(problemsOf({ DATABASE_ANSWER_TIMEOUT_SECONDS: '0' })).toEqual(['DATABASE_ANSWER_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "0")']);
    expect(problemsOf({ DATABASE_ANSWER_TIMEOUT_SECONDS: '2.5' })).toEqual(['DATABASE_ANSWER_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "2.5")']);
  });

  it('writes logs as LOG_FORMAT says, text or json, and refuses any other format', () => {
    expect(readConfig({ LOG_FORMAT: 'json' }, '/srv/consent').logFormat).toBe('json');
    expect(readConfig({ LOG_FORMAT: 'text' }, '/srv/consent').logFormat).toBe('text');
    expect(problemsOf({ LOG_FORMAT: 'JSON' })).toEqual(['LOG_FORMAT must be one of text, json (got "JSON")']);
  });

  it('is frozen, so nothing can change it after boot', () => {
    expect(Object.isFrozen(readConfig({}, '/srv/consent'))).toBe(true);
  });

  it('reads every variable the README lists', () => {
    const config = readConfig(
      {
        EVENT_STORE: 'kurrentdb',
        DATA_DIR: '/var/lib/consent',
        DATABASE_URL: 'postgres://ledger@db:5432/ledger',
        EVENTSTORE_URL: 'kurrentdb://events:2113?tls=false',
        KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
        HOST: '0.0.0.0',
        PORT: '8080',
        CONSENT_API_KEYS: JSON.stringify([{ key: 'tv-menu-key-0123456789abcdef', client: 'tv', scopes: ['commands:write'], touchpoints: ['tv-menu'] }]),
        MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
        PROJECTOR: 'off',
        LOG_FORMAT: 'json',
      },
      '/srv/consent',
    );
    expect(config).toMatchObject({
      eventStore: 'kurrentdb',
      dataDir: '/var/lib/consent',
      databaseUrl: 'postgres://ledger@db:5432/ledger',
      eventStoreUrl: 'kurrentdb://events:2113?tls=false',
      kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      host: '0.0.0.0',
      port: 8080,
      apiKeys: [{ key: 'tv-menu-key-0123456789abcdef', client: 'tv', scopes: ['commands:write'], touchpoints: ['tv-menu'] }],
      projector: 'off',
      logFormat: 'json',
    });
    expect(config.masterKey).toHaveLength(32);
  });

  it('lists every problem at once', () => {
    expect(
      problemsOf({
        EVENT_STORE: 'mongodb',
        PORT: 'eighty',
        KAFKA_BROKERS: 'kafka',
        CONSENT_API_KEYS: '{"key":',
        MASTER_KEY: 'short',
      }),
    ).toEqual([
      'EVENT_STORE must be one of sqlite, postgres, kurrentdb (got "mongodb")',
      'KAFKA_BROKERS must list host:port pairs separated by commas (got "kafka")',
      'PORT must be a whole number from 0 to 65535 (got "eighty")',
      'CONSENT_API_KEYS must be JSON: a list of { "key", "client", "scopes", "touchpoints"? }',
      expect.stringMatching(/^MASTER_KEY must/),
    ]);
  });

  it('refuses to start in production without MASTER_KEY, rather than generate a development key file', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      "MASTER_KEY is required in production (32 bytes, base64, from the secret manager): it wraps every subject's personal-data key",
    ]);
    expect(readConfig({ NODE_ENV: 'production', MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, '/srv/consent').masterKey).toHaveLength(32);
  });

  it('needs DATABASE_URL for PostgreSQL, and both URLs for KurrentDB', () => {
    expect(problemsOf({ EVENT_STORE: 'postgres' })).toEqual(['DATABASE_URL is required when EVENT_STORE=postgres']);
    expect(problemsOf({ EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://ledger:a/b+c@db:5432/ledger' })).toEqual([
      'DATABASE_URL is not a valid URL: percent-encode any "/", "@", ":", "#" or "?" in the user name or password',
    ]);
    expect(problemsOf({ EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://ledger:a%2Fb%2Bc@db:5432/ledger' })).toEqual([]);
    expect(problemsOf({ EVENT_STORE: 'kurrentdb' })).toEqual([
      expect.stringMatching(/^DATABASE_URL is required when EVENT_STORE=kurrentdb/),
      'EVENTSTORE_URL is required when EVENT_STORE=kurrentdb',
    ]);
  });

  it('checks each API key entry', () => {
    expect(
      problemsOf({
        CONSENT_API_KEYS: JSON.stringify([
          { key: 'short', client: 'a', scopes: ['commands:write'] },
          { key: 'long-enough-key-000000000', client: 'b', scopes: ['everything'], touchpoints: ['tv'] },
          { key: 'long-enough-key-000000001', client: 'c', scopes: ['decisions:read'], colour: 'red' },
        ]),
      }),
    ).toEqual([
      'CONSENT_API_KEYS[0].key must be at least 24 characters without spaces',
      'CONSENT_API_KEYS[1].scopes must be a non-empty list of commands:write, relationships:write, decisions:read, history:read, personal-data:read, objections:review, subjects:erase, rights:manage',
      'CONSENT_API_KEYS[1].touchpoints must be a non-empty list of touchpoints (e.g. "tv-menu")',
      'CONSENT_API_KEYS[2].colour is not a known field',
    ]);
  });

  it('refuses a key shorter than 24 characters', () => {
    const grant = (key: string) => JSON.stringify([{ key, client: 'tv', scopes: ['commands:write'] }]);
    expect(problemsOf({ CONSENT_API_KEYS: grant('k'.repeat(23)) })).toEqual(['CONSENT_API_KEYS[0].key must be at least 24 characters without spaces']);
    expect(problemsOf({ CONSENT_API_KEYS: grant('k'.repeat(24)) })).toEqual([]);
  });

  it('refuses two keys for one client, which would share idempotency records and be told apart in no event', () => {
    expect(
      problemsOf({
        CONSENT_API_KEYS: JSON.stringify([
          { key: 'myproximus-key-000000000001', client: 'myproximus', scopes: ['commands:write'] },
          { key: 'myproximus-key-000000000002', client: 'myproximus', scopes: ['decisions:read'] },
        ]),
      }),
    ).toEqual(['CONSENT_API_KEYS[1].client "myproximus" is already another key\'s: give each key a client name of its own']);
  });
});
