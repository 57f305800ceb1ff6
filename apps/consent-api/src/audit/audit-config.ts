import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EventStoreConfig } from '@consent-ledger/event-store';
import { loadOrCreateDevMasterKey, parseMasterKey, type PersonalDataVaultConfig } from '@consent-ledger/personal-data';

/**
 * The auditor CLI reads the same environment as the service, so it looks at the same log and keys:
 * EVENT_STORE (sqlite | postgres | in-memory, default sqlite), DATA_DIR (default ./data),
 * DATABASE_URL (postgres), CATALOGUE_FILE (default catalogues/proximus.json), MASTER_KEY (base64,
 * 32 bytes; in development `${DATA_DIR}/master.key` is created once), VAULT_DATABASE_URL and
 * VAULT_SCHEMA (postgres key store; default DATABASE_URL and the connection's search_path).
 */
export interface AuditConfig {
  readonly eventStore: EventStoreConfig;
  readonly vault: PersonalDataVaultConfig;
  readonly catalogueFile: string;
}

export class AuditConfigInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditConfigInvalid';
  }
}

export function auditConfigFrom(env: NodeJS.ProcessEnv): AuditConfig {
  const kind = env.EVENT_STORE ?? 'sqlite';
  const dataDir = resolve(env.DATA_DIR ?? 'data');
  const catalogueFile = resolve(env.CATALOGUE_FILE ?? 'catalogues/proximus.json');
  if (!existsSync(catalogueFile)) throw new AuditConfigInvalid(`CATALOGUE_FILE ${catalogueFile} does not exist`);
  const masterKey = () => {
    if (env.MASTER_KEY) return parseMasterKey(env.MASTER_KEY);
    mkdirSync(dataDir, { recursive: true });
    return loadOrCreateDevMasterKey(join(dataDir, 'master.key'));
  };
  switch (kind) {
    case 'sqlite':
      mkdirSync(dataDir, { recursive: true });
      return {
        eventStore: { kind: 'sqlite', file: join(dataDir, 'events.sqlite') },
        vault: { kind: 'sqlite', file: join(dataDir, 'keys.sqlite'), masterKey: masterKey() },
        catalogueFile,
      };
    case 'postgres': {
      if (!env.DATABASE_URL) throw new AuditConfigInvalid('EVENT_STORE=postgres needs DATABASE_URL');
      return {
        eventStore: { kind: 'postgres', url: env.DATABASE_URL },
        vault: {
          kind: 'postgres',
          url: env.VAULT_DATABASE_URL ?? env.DATABASE_URL,
          masterKey: masterKey(),
          ...(env.VAULT_SCHEMA && { schema: env.VAULT_SCHEMA }),
        },
        catalogueFile,
      };
    }
    case 'in-memory':
      return { eventStore: { kind: 'in-memory' }, vault: { kind: 'in-memory' }, catalogueFile };
    default:
      throw new AuditConfigInvalid(`EVENT_STORE must be sqlite, postgres or in-memory, not "${kind}"`);
  }
}
