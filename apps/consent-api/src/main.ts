import 'reflect-metadata';
import { ConfigInvalid, readConfig } from './config';
import { createConsentApi } from './consent-api';

/**
 * `npm start`: reads the environment once, opens the storage it names (by default SQLite files
 * under ./data with the projector in this process) and serves HTTP on 127.0.0.1:3000.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`Consent Ledger API cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Nest's start-up chatter (every route mapped) would bury the generated key; errors and warnings stay.
  const app = await createConsentApi(config, { logger: ['fatal', 'error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const where = config.eventStore === 'sqlite' ? `SQLite files in ${config.dataDir}` : config.eventStore;
  process.stdout.write(`Consent Ledger API listening on http://${config.host}:${port} (docs: /docs; store: ${where})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Consent Ledger API failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
