import { join } from 'node:path';
import type { EventStoreConfig } from '@consent-ledger/event-store';
import { loadOrCreateDevMasterKey, type PersonalDataVaultConfig } from '@consent-ledger/personal-data';
import { type ApiConfig, readConfig } from '../config';

/**
 * The auditor CLI reads the service's own configuration (`readConfig`: EVENT_STORE, DATA_DIR,
 * DATABASE_URL, EVENTSTORE_URL, CATALOGUE_FILE, MASTER_KEY), so it opens the same log and the same
 * key store as the running service, in the same places `LedgerStorage` does.
 */
export interface AuditConfig {
  readonly catalogueFile: string;
  readonly eventStore: EventStoreConfig;
  /** Only `export` reads personal data; the others never touch the master key. */
  vault(): PersonalDataVaultConfig;
}

export function auditConfigFrom(env: NodeJS.ProcessEnv): AuditConfig {
  const config = readConfig(env);
  return { catalogueFile: config.catalogueFile, eventStore: eventStoreOf(config), vault: () => vaultOf(config) };
}

function eventStoreOf(config: ApiConfig): EventStoreConfig {
  switch (config.eventStore) {
    case 'sqlite':
      return { kind: 'sqlite', file: join(config.dataDir, 'events.sqlite') };
    case 'postgres':
      return { kind: 'postgres', url: config.databaseUrl! };
    case 'kurrentdb':
      return { kind: 'kurrentdb', url: config.eventStoreUrl! };
  }
}

function vaultOf(config: ApiConfig): PersonalDataVaultConfig {
  const masterKey = config.masterKey ?? loadOrCreateDevMasterKey(join(config.dataDir, 'master.key'));
  return config.eventStore === 'sqlite'
    ? { kind: 'sqlite', file: join(config.dataDir, 'keys.sqlite'), masterKey }
    : { kind: 'postgres', url: config.databaseUrl!, masterKey };
}
