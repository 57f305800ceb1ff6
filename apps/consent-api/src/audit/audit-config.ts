import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { Environment, readCatalogueFile, readDatabaseAnswerTimeout, readDeploymentLog, readMasterKey, vaultConfigOf } from '@consent-ledger/deployment';
import { connectionWaitMs, type EventStoreConfig, eventStoreConfigOf, watchAnswers } from '@consent-ledger/event-store';
import type { PersonalDataVaultConfig } from '@consent-ledger/personal-data';

/**
 * What the auditor CLI reads of the service's environment, each read and checked as the service
 * reads it, so it opens the same log and the same key store: EVENT_STORE, DATA_DIR, DATABASE_URL,
 * EVENTSTORE_URL, DATABASE_ANSWER_TIMEOUT_SECONDS and CATALOGUE_FILE, and MASTER_KEY only when a
 * command opens personal data. Nothing else: it read the API's whole configuration, so from cron
 * on a host whose environment carries the API's settings, a PORT the API refuses, or
 * NODE_ENV=production without MASTER_KEY, failed even verify (found in review). NODE_ENV keeps the
 * service from generating a development master key; the auditor generates none, and the key
 * store refuses a master key other than the one that wrapped its keys.
 */
export interface AuditConfig {
  /** Loaded only by the commands that read the catalogue: verify needs none. */
  readonly catalogueFile: string;
  /**
   * DATABASE_ANSWER_TIMEOUT_SECONDS, in milliseconds: how long any statement of the audit waits on a
   * PostgreSQL that is silent, and cannot say it is still working on it (the event store's
   * answer-watch.ts). Nobody is there to stop a run from cron, which waited for ever (found in
   * review); a long walk of the log goes on, since PostgreSQL answers each page.
   */
  readonly databaseAnswerTimeoutMs: number;
  readonly eventStore: EventStoreConfig;
  /**
   * Only `export` and `retention` open the vault; the others never read MASTER_KEY. Throws where
   * MASTER_KEY is not a key, or the service's key store or master key is missing: an auditor never
   * creates key material.
   */
  vault(): PersonalDataVaultConfig;
}

export function auditConfigFrom(env: NodeJS.ProcessEnv, cwd = process.cwd()): AuditConfig {
  const environment = new Environment(env, cwd);
  const log = readDeploymentLog(environment);
  const silenceTimeoutMs = readDatabaseAnswerTimeout(environment);
  const catalogueFile = readCatalogueFile(environment);
  environment.assertValid("auditor CLI's configuration");
  return {
    catalogueFile,
    databaseAnswerTimeoutMs: silenceTimeoutMs,
    eventStore: eventStoreConfigOf(log, { silenceTimeoutMs }),
    vault() {
      const keys = new Environment(env, cwd);
      const masterKey = readMasterKey(keys);
      keys.assertValid('master key');
      return vaultConfigOf({ ...log, ...(masterKey !== undefined && { masterKey }) }, { existingOnly: true, silenceTimeoutMs });
    },
  };
}

/**
 * An auditor reads an existing log: opening the embedded store would create an empty one where
 * DATA_DIR points, and `verify` would call a mistyped directory intact, run after run.
 */
export async function missingStoreProblem(eventStore: EventStoreConfig): Promise<string | undefined> {
  if (eventStore.kind === 'sqlite') {
    return existsSync(eventStore.file) ? undefined : `no event store at ${eventStore.file}: set DATA_DIR (or EVENT_STORE and DATABASE_URL) to the service's`;
  }
  if (eventStore.kind !== 'postgres') return undefined;
  // Opening the PostgreSQL store would create its tables in whatever schema the URL names.
  const { url, silenceTimeoutMs } = eventStore;
  const client = new Client({ connectionString: url, ...(silenceTimeoutMs !== undefined && { connectionTimeoutMillis: connectionWaitMs(silenceTimeoutMs) }) });
  // A connection lost is reported by the statement it fails; unheard, it would end the process.
  client.on('error', () => undefined);
  if (silenceTimeoutMs !== undefined) watchAnswers(client, { url, timeoutMs: silenceTimeoutMs });
  await client.connect();
  try {
    const { rows } = await client.query<{ found: boolean; schema: string | null }>("SELECT to_regclass('events') IS NOT NULL AS found, current_schema() AS schema");
    if (rows[0].found) return undefined;
    const where = rows[0].schema === null ? 'none of the schemas on its search_path exists' : `schema ${rows[0].schema} has no events table`;
    return `no event store in DATABASE_URL (${where}): set it to the service's, with its schema`;
  } finally {
    // Not awaited: a server that stopped answering never confirms the end.
    void client.end().catch(() => undefined);
  }
}
