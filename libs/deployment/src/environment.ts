import { resolve } from 'node:path';
import type { DeploymentLog } from '@consent-ledger/event-store';
import { parseMasterKey } from '@consent-ledger/personal-data';

/**
 * How the API and the projector exit when they cannot run with the configuration they were given
 * (sysexits' EX_CONFIG), so a supervisor tells a setting to fix from a crash worth restarting.
 */
export const CONFIG_INVALID_EXIT_CODE = 78;

/** Every problem of a configuration at once, so a deployment is fixed in one go, not one variable per restart. */
export class ConfigInvalid extends Error {
  constructor(
    readonly problems: readonly string[],
    what = 'configuration',
  ) {
    super(`the ${what} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigInvalid';
  }
}

const EVENT_STORES: readonly DeploymentLog['eventStore'][] = ['sqlite', 'postgres', 'kurrentdb'];
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * Reads environment variables and collects what is wrong with them. The API, the projector and
 * the auditor CLI of one deployment read the same names, through the readers below, so they agree
 * on what each means.
 */
export class Environment {
  readonly problems: string[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
  ) {}

  /** The trimmed value; undefined when unset or blank. */
  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  wholeNumber(name: string, fallback: number, min: number, max: number): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return value;
  }

  /** The value turned into T by `parse`, whose thrown message is the problem to report; undefined when unset or refused. */
  parsed<T>(name: string, parse: (text: string) => T): T | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    try {
      return parse(text);
    } catch (error) {
      this.problems.push((error as Error).message);
      return undefined;
    }
  }

  /** A path, absolute, resolved against the working directory. */
  path(name: string, fallback: string): string {
    return resolve(this.cwd, this.text(name) ?? fallback);
  }

  /** Throws ConfigInvalid when any reader found a problem. */
  assertValid(what?: string): void {
    if (this.problems.length > 0) throw new ConfigInvalid(this.problems, what);
  }
}

/**
 * EVENT_STORE, DATA_DIR, DATABASE_URL and EVENTSTORE_URL: where the log lives. PostgreSQL is
 * needed with KurrentDB too, for everything that is not the log (read models, idempotency
 * records, personal-data keys).
 */
export function readDeploymentLog(environment: Environment): DeploymentLog {
  const eventStore = (environment.text('EVENT_STORE') ?? 'sqlite') as DeploymentLog['eventStore'];
  if (!EVENT_STORES.includes(eventStore)) environment.problems.push(`EVENT_STORE must be one of ${EVENT_STORES.join(', ')} (got "${eventStore}")`);

  const databaseUrl = environment.text('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) environment.problems.push('DATABASE_URL must be a postgres:// connection string');
  // The driver parses it as a URL only when it connects; a generated password holding "/" or "@"
  // failed the start with a bare "Invalid URL" (found in review).
  else if (databaseUrl !== undefined && !URL.canParse(databaseUrl)) {
    environment.problems.push('DATABASE_URL is not a valid URL: percent-encode any "/", "@", ":", "#" or "?" in the user name or password');
  }
  if (databaseUrl === undefined && eventStore === 'postgres') environment.problems.push('DATABASE_URL is required when EVENT_STORE=postgres');
  if (databaseUrl === undefined && eventStore === 'kurrentdb') {
    environment.problems.push('DATABASE_URL is required when EVENT_STORE=kurrentdb (read models, idempotency records and personal-data keys live in PostgreSQL)');
  }

  const eventStoreUrl = environment.text('EVENTSTORE_URL');
  if (eventStore === 'kurrentdb' && eventStoreUrl === undefined) environment.problems.push('EVENTSTORE_URL is required when EVENT_STORE=kurrentdb');
  if (eventStoreUrl !== undefined && !/^(kurrentdb|esdb|kdb)(\+discover)?:\/\//.test(eventStoreUrl)) {
    environment.problems.push('EVENTSTORE_URL must be a kurrentdb:// (or esdb://) connection string');
  }

  return {
    eventStore,
    dataDir: environment.path('DATA_DIR', 'data'),
    ...(databaseUrl !== undefined && { databaseUrl }),
    ...(eventStoreUrl !== undefined && { eventStoreUrl }),
  };
}

/** KAFKA_BROKERS: host:port pairs, comma-separated; empty when unset. */
export function readKafkaBrokers(environment: Environment, purposeWhenRequired?: string): readonly string[] {
  const brokers = (environment.text('KAFKA_BROKERS') ?? '').split(',').map((broker) => broker.trim()).filter(Boolean);
  if (brokers.length === 0 && purposeWhenRequired !== undefined) {
    environment.problems.push(`KAFKA_BROKERS is required: ${purposeWhenRequired} (host:port, comma-separated)`);
  }
  for (const broker of brokers) {
    if (!HOST_PORT.test(broker)) environment.problems.push(`KAFKA_BROKERS must list host:port pairs separated by commas (got "${broker}")`);
  }
  return Object.freeze(brokers);
}

/** MASTER_KEY: wraps every subject's personal-data key; undefined when unset. */
export function readMasterKey(environment: Environment): Buffer | undefined {
  return environment.parsed('MASTER_KEY', parseMasterKey);
}

/** CATALOGUE_FILE: the purpose catalogue, validated when loaded. */
export function readCatalogueFile(environment: Environment): string {
  return environment.path('CATALOGUE_FILE', 'catalogues/proximus.json');
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Weeks, or days and a time: no years or months, whose length depends on when they start. */
const FIXED_DURATION = /^P(?:(\d{1,6})W|(?:(\d{1,6})D)?(?:T(?=\d)(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?)$/;

/**
 * DATABASE_ANSWER_TIMEOUT_SECONDS, in milliseconds: how long a statement serving a command or a
 * decision waits for PostgreSQL's answer, in the API and in the projector's command intake and
 * decision answers alike; the auditor CLI gives a statement that long of PostgreSQL's silence.
 * Statements are answered in milliseconds and wait for a lock at most 3 s (REQUEST_LOCK_TIMEOUT), a
 * seal 10 s: 10 s without an answer is a database out of reach (a network cut that keeps the
 * connections open), not a slow one.
 */
export function readDatabaseAnswerTimeout(environment: Environment): number {
  return environment.wholeNumber('DATABASE_ANSWER_TIMEOUT_SECONDS', 10, 1, 600) * 1000;
}

/**
 * IDEMPOTENCY_RETENTION: how long answers to idempotency keys and first-arrival claims are kept
 * (ADR 0004, amendment), as milliseconds; default `P30D`, channels redeliver after days. At least
 * an hour: a shorter one could forget a request's claim while it is still being decided, or a
 * first arrival within the 5 minutes a redelivery dated ahead still counts from it.
 */
export function readIdempotencyRetention(environment: Environment): number {
  return environment.parsed('IDEMPOTENCY_RETENTION', parseIdempotencyRetention) ?? 30 * DAY_MS;
}

function parseIdempotencyRetention(text: string): number {
  const parts = text === 'P' ? null : FIXED_DURATION.exec(text);
  const [weeks, days, hours, minutes, seconds] = (parts?.slice(1) ?? []).map((part) => Number(part ?? 0));
  const ms = parts ? (weeks * 7 + days) * DAY_MS + hours * HOUR_MS + minutes * 60_000 + seconds * 1000 : Number.NaN;
  if (!(ms >= HOUR_MS && ms <= 3650 * DAY_MS)) {
    throw new Error(`IDEMPOTENCY_RETENTION must be an ISO-8601 duration in weeks, days, hours, minutes or seconds, from PT1H to P3650D, such as P30D or PT12H (got "${text}")`);
  }
  return ms;
}
