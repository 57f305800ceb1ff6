import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { CONFIG_INVALID_EXIT_CODE } from '@consent-ledger/deployment';
import { ConfigInvalid, readProjectorConfig } from './config';
import { createProjector } from './projector';

/** `npm run start:projector`: reads the environment once, then runs until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const logger = new Logger('Projector');
  let config;
  try {
    config = readProjectorConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`${error.message}\n`);
      process.exit(CONFIG_INVALID_EXIT_CODE);
    }
    throw error;
  }
  const app = await createProjector(config);
  app.enableShutdownHooks();
  await app.listen();
  logger.log(`projector ${config.instanceId} running (event store: ${config.eventStore}, Kafka: ${config.kafkaBrokers.join(',')}, topic prefix: "${config.kafkaTopicPrefix}")`);
}

main().catch((error: unknown) => {
  // The message, as the API gives it: an operator reads which setting or file is wrong, not a stack.
  process.stderr.write(`the projector could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  // A catalogue file missing or invalid, found once the resources open, is a setting to fix too.
  process.exit(error instanceof ConfigInvalid ? CONFIG_INVALID_EXIT_CODE : 1);
});
