import { Environment, type LogFormat, readCatalogueFile, readDatabaseAnswerTimeout, readDeploymentLog, readIdempotencyRetention, readKafkaBrokers, readLogFormat, readMasterKey } from '@consent-ledger/deployment';
import { isTouchpoint, type Touchpoint } from '@consent-ledger/domain';
import type { DeploymentLog } from '@consent-ledger/event-store';
import { isScope, SCOPES, type Scope } from './api-keys/scopes';

/** One API key as `CONSENT_API_KEYS` lists it. */
export interface ApiKeyGrant {
  readonly key: string;
  /** Who holds the key: scopes idempotency keys and is recorded in event metadata. */
  readonly client: string;
  readonly scopes: readonly Scope[];
  /** When set, the key may record choices only for these touchpoints (the TV menu's key: `tv-menu`). */
  readonly touchpoints?: readonly Touchpoint[];
}

export { ConfigInvalid } from '@consent-ledger/deployment';

export interface ApiConfig {
  readonly eventStore: DeploymentLog['eventStore'];
  /** Absolute. SQLite files, the generated admin key's hash and the development master key live here. */
  readonly dataDir: string;
  /** PostgreSQL for the store (`postgres`) or for idempotency records, vault and read models (`postgres`, `kurrentdb`). */
  readonly databaseUrl?: string;
  /** KurrentDB connection string (`kurrentdb`). */
  readonly eventStoreUrl?: string;
  /** Empty: Kafka is off. */
  readonly kafkaBrokers: readonly string[];
  readonly host: string;
  readonly port: number;
  /** Undefined: no keys configured, an admin key is generated into `dataDir` on first start. */
  readonly apiKeys?: readonly ApiKeyGrant[];
  readonly catalogueFile: string;
  /** Wraps the vault's per-subject keys. Undefined: a development key file in `dataDir`. */
  readonly masterKey?: Buffer;
  /** `in-process`: this process keeps the read models up to date; `off`: a separate projector does. */
  readonly projector: 'in-process' | 'off';
  /** How often the proof-retention job runs in this process; 0: never (run it from cron instead). */
  readonly proofRetentionEveryMs: number;
  /** How long a request, headers and body, may take to arrive (REQUEST_TIMEOUT_SECONDS); a later one is answered 408. */
  readonly requestTimeoutMs: number;
  /**
   * How long a statement of a command or decision waits for PostgreSQL's answer
   * (DATABASE_ANSWER_TIMEOUT_SECONDS); then its connection is closed and the request answered 503.
   */
  readonly databaseAnswerTimeoutMs: number;
  /** How long answers to idempotency keys and first arrivals are kept (IDEMPOTENCY_RETENTION), in milliseconds. */
  readonly idempotencyRetentionMs: number;
  /** `text`, NestJS's lines; `json`, one JSON object per line for a log shipper (LOG_FORMAT). */
  readonly logFormat: LogFormat;
}

/**
 * Reads the environment once and returns a frozen configuration, or throws ConfigInvalid listing
 * every problem at once.
 */
export function readConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): ApiConfig {
  const environment = new Environment(env, cwd);
  const { problems } = environment;
  const log = readDeploymentLog(environment);
  const kafkaBrokers = readKafkaBrokers(environment);

  const host = environment.text('HOST') ?? '127.0.0.1';
  const port = environment.wholeNumber('PORT', 3000, 0, 65_535);
  // Commands are a few hundred bytes and audience lists at most 2 MiB: 30 s is ample on a slow link,
  // and short enough that a client trickling bodies cannot pile up connections.
  const requestTimeoutSeconds = environment.wholeNumber('REQUEST_TIMEOUT_SECONDS', 30, 1, 600);
  const databaseAnswerTimeoutMs = readDatabaseAnswerTimeout(environment);

  const apiKeysText = environment.text('CONSENT_API_KEYS');
  const apiKeys = apiKeysText === undefined ? undefined : readApiKeys(apiKeysText, problems);
  const masterKey = readMasterKey(environment);
  // A generated master.key beside the data would wrap production keys with a file any copy of the disk carries (ADR 0006).
  if (environment.text('NODE_ENV') === 'production' && environment.text('MASTER_KEY') === undefined) {
    problems.push('MASTER_KEY is required in production (32 bytes, base64, from the secret manager): it wraps every subject\'s personal-data key');
  }

  const projector = (environment.text('PROJECTOR') ?? 'in-process') as ApiConfig['projector'];
  if (projector !== 'in-process' && projector !== 'off') problems.push(`PROJECTOR must be in-process or off (got "${projector}")`);

  const idempotencyRetentionMs = readIdempotencyRetention(environment);
  const logFormat = readLogFormat(environment);

  const retentionText = environment.text('PROOF_RETENTION_EVERY_HOURS') ?? '24';
  const retentionHours = Number(retentionText);
  // Each run appends to the log and reads every subject: a quarter of an hour is as often as that makes sense.
  if (!/^\d+(\.\d+)?$/.test(retentionText) || (retentionHours !== 0 && (retentionHours < 0.25 || retentionHours > 8760))) {
    problems.push(`PROOF_RETENTION_EVERY_HOURS must be a number of hours from 0.25 to 8760, or 0 to turn the job off (got "${retentionText}")`);
  }

  environment.assertValid();
  return Object.freeze({
    ...log,
    kafkaBrokers,
    host,
    port,
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    databaseAnswerTimeoutMs,
    ...(apiKeys !== undefined && { apiKeys }),
    catalogueFile: readCatalogueFile(environment),
    ...(masterKey !== undefined && { masterKey }),
    projector,
    proofRetentionEveryMs: Math.round(retentionHours * 3_600_000),
    idempotencyRetentionMs,
    logFormat,
  });
}

/** Keys are compared on every request an attacker cares to send: 24 random characters hold 96 bits even as hex. */
export const MIN_API_KEY_LENGTH = 24;

function readApiKeys(json: string, problems: string[]): readonly ApiKeyGrant[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    problems.push('CONSENT_API_KEYS must be JSON: a list of { "key", "client", "scopes", "touchpoints"? }');
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push('CONSENT_API_KEYS must be a non-empty JSON list of { "key", "client", "scopes", "touchpoints"? }');
    return undefined;
  }
  const keys = new Set<string>();
  // Idempotency records are scoped by client, and events record the client as who acted: two keys
  // under one name would share the first and blur the second.
  const clients = new Set<string>();
  const grants = parsed.map((entry: unknown, index): ApiKeyGrant | undefined => {
    const at = `CONSENT_API_KEYS[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object`);
      return undefined;
    }
    const { key, client, scopes, touchpoints, ...unknown } = entry as Record<string, unknown>;
    const before = problems.length;
    for (const field of Object.keys(unknown)) problems.push(`${at}.${field} is not a known field`);
    if (typeof key !== 'string' || key.length < MIN_API_KEY_LENGTH || /\s/.test(key)) {
      problems.push(`${at}.key must be at least ${MIN_API_KEY_LENGTH} characters without spaces`);
    }
    else if (keys.has(key)) problems.push(`${at}.key is listed twice`);
    else keys.add(key);
    if (typeof client !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(client)) {
      problems.push(`${at}.client must be a name of letters, digits and . _ : - (at most 64)`);
    } else if (clients.has(client)) {
      problems.push(`${at}.client "${client}" is already another key's: give each key a client name of its own`);
    } else {
      clients.add(client);
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every(isScope)) {
      problems.push(`${at}.scopes must be a non-empty list of ${SCOPES.join(', ')}`);
    }
    if (touchpoints !== undefined && (!Array.isArray(touchpoints) || touchpoints.length === 0 || !touchpoints.every(isTouchpoint))) {
      problems.push(`${at}.touchpoints must be a non-empty list of touchpoints (e.g. "tv-menu")`);
    }
    if (problems.length > before) return undefined;
    return Object.freeze({
      key: key as string,
      client: client as string,
      scopes: Object.freeze([...(scopes as Scope[])]),
      ...(touchpoints !== undefined && { touchpoints: Object.freeze([...(touchpoints as Touchpoint[])]) }),
    });
  });
  return grants.every((grant) => grant !== undefined) ? Object.freeze(grants as ApiKeyGrant[]) : undefined;
}
