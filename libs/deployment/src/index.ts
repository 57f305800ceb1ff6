export { ConfigInvalid, Environment, readCatalogueFile, readDeploymentLog, readKafkaBrokers, readMasterKey } from './environment';
