export * from './personal-data-vault.port';
export { InMemoryVault } from './in-memory/in-memory-vault';
export { createPersonalDataVault, type PersonalDataVaultConfig } from './create-personal-data-vault';
export { loadOrCreateDevMasterKey, MASTER_KEY_BYTES, MasterKeyInvalid, parseMasterKey } from './master-key';
export { MasterKeyMismatch } from './envelope/key-wrapping';
export type { KeyCacheOptions } from './envelope/key-cache';
