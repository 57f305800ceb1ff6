export * from './personal-data-vault.port';
export { KeyStoreMissing } from './envelope/envelope-vault';
export { InMemoryVault } from './in-memory/in-memory-vault';
export { createPersonalDataVault, type PersonalDataVaultConfig } from './create-personal-data-vault';
export { loadOrCreateDevMasterKey, MASTER_KEY_BYTES, MasterKeyInvalid, MasterKeyMissing, parseMasterKey, readDevMasterKey } from './master-key';
export { MasterKeyMismatch } from './envelope/key-wrapping';
export type { KeyCacheOptions } from './envelope/key-cache';
export type { ScrubLog } from './postgres/postgres-vault';
