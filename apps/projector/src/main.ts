import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { CONFIG_INVALID_EXIT_CODE, Environment, type LogFormat, logLine, readLogFormat, useLogFormat } from '@consent-ledger/deployment';
import { ConfigInvalid, readProjectorConfig } from './config';
import { createProjector } from './projector';

const LOG_CONTEXT = 'Projector';

/** `npm run start:projector`: reads the environment once, then runs until SIGTERM/SIGINT. */
async function main(format: LogFormat): Promise<void> {
  let config;
  try {
    config = readProjectorConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(logLine(format, { level: 'fatal', context: LOG_CONTEXT, message: error.message }));
      process.exit(CONFIG_INVALID_EXIT_CODE);
    }
    throw error;
  }
  const logger = useLogFormat(config.logFormat, LOG_CONTEXT);
  const app = await createProjector(config, { ...(logger && { logger }) });
  app.enableShutdownHooks();
  await app.listen();
  new Logger(LOG_CONTEXT).log(`projector ${config.instanceId} running (event store: ${config.eventStore}, Kafka: ${config.kafkaBrokers.join(',')}, topic prefix: "${config.kafkaTopicPrefix}")`);
}

// Read on its own first, so a refusal of any other setting is already written as LOG_FORMAT asks.
const format = readLogFormat(new Environment(process.env, process.cwd()));
main(format).catch((error: unknown) => {
  // The message, as the API gives it: an operator reads which setting or file is wrong, not a stack.
  const message = `the projector could not start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(logLine(format, { level: 'fatal', context: LOG_CONTEXT, message }));
  // A catalogue file missing or invalid, found once the resources open, is a setting to fix too.
  process.exit(error instanceof ConfigInvalid ? CONFIG_INVALID_EXIT_CODE : 1);
});
