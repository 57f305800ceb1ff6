export { ConfigInvalid, Environment, readCatalogueFile, readDeploymentLog, readIdempotencyRetention, readKafkaBrokers, readMasterKey } from './environment';
