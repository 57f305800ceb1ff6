import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { vaultConfigOf } from '@consent-ledger/deployment';
import { type EventStoreConfig, eventStoreConfigOf } from '@consent-ledger/event-store';
import type { PersonalDataVaultConfig } from '@consent-ledger/personal-data';
import { readConfig } from '../config';

/**
 * The auditor CLI reads the service's own configuration (`readConfig`: EVENT_STORE, DATA_DIR,
 * DATABASE_URL, EVENTSTORE_URL, CATALOGUE_FILE, MASTER_KEY), so it opens the same log and the same
 * key store as the running service.
 */
export interface AuditConfig {
  readonly catalogueFile: string;
  readonly eventStore: EventStoreConfig;
  /**
   * Only `export` and `retention` open the vault; the others never touch the master key. Throws
   * where the service's key store or master key is missing: an auditor never creates key material.
   */
  vault(): PersonalDataVaultConfig;
}

export function auditConfigFrom(env: NodeJS.ProcessEnv): AuditConfig {
  const config = readConfig(env);
  return { catalogueFile: config.catalogueFile, eventStore: eventStoreConfigOf(config), vault: () => vaultConfigOf(config, { existingOnly: true }) };
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
  const client = new Client({ connectionString: eventStore.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ found: boolean; schema: string | null }>("SELECT to_regclass('events') IS NOT NULL AS found, current_schema() AS schema");
    if (rows[0].found) return undefined;
    const where = rows[0].schema === null ? 'none of the schemas on its search_path exists' : `schema ${rows[0].schema} has no events table`;
    return `no event store in DATABASE_URL (${where}): set it to the service's, with its schema`;
  } finally {
    await client.end();
  }
}
