import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { vaultConfigOf } from '@consent-ledger/deployment';
import { connectionWaitMs, type EventStoreConfig, eventStoreConfigOf, watchAnswers } from '@consent-ledger/event-store';
import type { PersonalDataVaultConfig } from '@consent-ledger/personal-data';
import { readConfig } from '../config';

/**
 * The auditor CLI reads the service's own configuration (`readConfig`: EVENT_STORE, DATA_DIR,
 * DATABASE_URL, EVENTSTORE_URL, CATALOGUE_FILE, MASTER_KEY, DATABASE_ANSWER_TIMEOUT_SECONDS), so it
 * opens the same log and the same key store as the running service.
 */
export interface AuditConfig {
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
   * Only `export` and `retention` open the vault; the others never touch the master key. Throws
   * where the service's key store or master key is missing: an auditor never creates key material.
   */
  vault(): PersonalDataVaultConfig;
}

export function auditConfigFrom(env: NodeJS.ProcessEnv): AuditConfig {
  const config = readConfig(env);
  const silenceTimeoutMs = config.databaseAnswerTimeoutMs;
  return {
    catalogueFile: config.catalogueFile,
    databaseAnswerTimeoutMs: silenceTimeoutMs,
    eventStore: eventStoreConfigOf(config, { silenceTimeoutMs }),
    vault: () => vaultConfigOf(config, { existingOnly: true, silenceTimeoutMs }),
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
