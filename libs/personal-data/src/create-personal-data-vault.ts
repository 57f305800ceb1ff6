import type { KeyCacheOptions } from './envelope/key-cache';
import { InMemoryVault } from './in-memory/in-memory-vault';
import type { PersonalDataVault } from './personal-data-vault.port';
import { openPostgresVault, type ScrubLog } from './postgres/postgres-vault';
import { openSqliteVault } from './sqlite/sqlite-vault';

export type PersonalDataVaultConfig =
  | { readonly kind: 'sqlite'; readonly file: string; readonly masterKey: Buffer; readonly cache?: KeyCacheOptions; readonly existingOnly?: boolean }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly masterKey: Buffer;
      readonly schema?: string;
      readonly cache?: KeyCacheOptions;
      readonly existingOnly?: boolean;
      /** See `PostgresVaultOptions.answerTimeoutMs`. */
      readonly answerTimeoutMs?: number;
      /** See `PostgresVaultOptions.silenceTimeoutMs`. */
      readonly silenceTimeoutMs?: number;
      /** See `PostgresVaultOptions.log`. */
      readonly log?: ScrubLog;
    }
  | { readonly kind: 'in-memory' };

/**
 * Opens the vault the configuration names; fails when the master key is not the one the keys were
 * wrapped with. With `existingOnly`, fails (`KeyStoreMissing`) rather than create a key store.
 */
export async function createPersonalDataVault(config: PersonalDataVaultConfig): Promise<PersonalDataVault> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteVault(config);
    case 'postgres':
      return openPostgresVault(config);
    case 'in-memory':
      return new InMemoryVault();
  }
}
