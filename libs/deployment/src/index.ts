export { CONFIG_INVALID_EXIT_CODE, ConfigInvalid, Environment, readCatalogueFile, readDatabaseAnswerTimeout, readDeploymentLog, readIdempotencyRetention, readKafkaBrokers, readMasterKey } from './environment';
export { KeyStoreLost, openServiceVault, vaultConfigOf, type VaultDeployment } from './vault';
export { secureDataDirectory } from './data-directory';
export { loadCatalogueFile } from './catalogue-file';
export { JsonLinesLogger, type LogFormat, logLine, type LogOptions, nestLogOf, readLogFormat, type RequestIdSource, TextLinesLogger, useLogFormat } from './log-format';
