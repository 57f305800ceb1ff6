export { ConfigInvalid, Environment, readCatalogueFile, readDeploymentLog, readIdempotencyRetention, readKafkaBrokers, readMasterKey } from './environment';
export { KeyStoreLost, openServiceVault, vaultConfigOf, type VaultDeployment } from './vault';
export { secureDataDirectory } from './data-directory';
