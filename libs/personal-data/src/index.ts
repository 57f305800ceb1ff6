export * from './personal-data-vault.port';
export { InMemoryVault } from './in-memory/in-memory-vault';
