import { createServer } from 'node:net';
import type { LogLevel } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONFIG_INVALID_EXIT_CODE, Environment, logLine, readLogFormat, useLogFormat } from '@consent-ledger/deployment';
import { type ApiConfig, ConfigInvalid, readConfig } from './config';
import { createConsentApi } from './consent-api';
import { currentRequestId } from './http/request-ids';

export interface Output {
  write(text: string): unknown;
}

/** The context of the lines the API writes itself, in LOG_FORMAT=json. */
export const LOG_CONTEXT = 'consent-api';

/** Until the API listens: what NestJS says of each module and route would bury the generated admin key. */
const START_UP_LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn'];
/** Once it listens, info too: NestJS says nothing more at that level, and the service's own lines are news. */
const SERVING_LOG_LEVELS: LogLevel[] = [...START_UP_LOG_LEVELS, 'log'];

export type Served = { readonly app: NestFastifyApplication } | { readonly exitCode: number };

/**
 * `npm start` without the process around it: reads the environment once, checks the service can
 * listen where it is told to, opens the storage it names (by default SQLite files under ./data
 * with the projector in this process) and serves HTTP on 127.0.0.1:3000.
 */
export async function serve(env: NodeJS.ProcessEnv, out: { stdout: Output; stderr: Output }): Promise<Served> {
  // Read on its own first, so a refusal of any other setting is already written as LOG_FORMAT asks.
  const format = readLogFormat(new Environment(env, process.cwd()));
  const refused = (reason: string, exitCode = CONFIG_INVALID_EXIT_CODE): Served => {
    out.stderr.write(logLine(format, { level: 'fatal', context: LOG_CONTEXT, message: `Consent Ledger API cannot start: ${reason}` }));
    return { exitCode };
  };
  let config: ApiConfig;
  try {
    config = readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigInvalid)) throw error;
    return refused(error.message);
  }
  const say = (message: string) => out.stdout.write(logLine(format, { level: 'log', context: LOG_CONTEXT, message }));
  // Before anything is opened or generated: a first start that then failed to listen printed the
  // only copy of its admin key, among error lines an operator reads past, and kept its hash.
  const unusable = await listenProblem(config.host, config.port);
  // A port still held by the process being replaced frees itself: exit 1, which supervisors
  // restart, where 78 (a setting to fix) is often configured not to be.
  if (unusable !== undefined) return refused(unusable.reason, unusable.isTaken ? 1 : CONFIG_INVALID_EXIT_CODE);
  let app: NestFastifyApplication;
  try {
    // Nest's start-up chatter (every route mapped) would bury the generated key; errors and warnings stay.
    const logger = useLogFormat(config.logFormat, LOG_CONTEXT, { logLevels: START_UP_LOG_LEVELS, requestId: currentRequestId }) ?? START_UP_LOG_LEVELS;
    app = await createConsentApi(config, { logger, announce: say });
  } catch (error) {
    // What only the stores can tell (a key known under another client's name) is a setting to fix too.
    if (!(error instanceof ConfigInvalid)) throw error;
    return refused(error.message);
  }
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  // The chatter is over: from now on the service's own good news too (the ledger storage answering again).
  app.useLogger(SERVING_LOG_LEVELS);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const where = config.eventStore === 'sqlite' ? `SQLite files in ${config.dataDir}` : config.eventStore;
  say(`Consent Ledger API listening on http://${config.host}:${port} (docs: /docs; store: ${where})`);
  return { app };
}

/** Why HOST:PORT cannot be listened on (taken, not this machine's, no such host), tried and let go at once. */
function listenProblem(host: string, port: number): Promise<{ reason: string; isTaken: boolean } | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'EADDRINUSE'
          ? { reason: `cannot listen on ${host}:${port} (EADDRINUSE): another process holds the port`, isTaken: true }
          : { reason: `cannot listen on ${host}:${port} (${error.code ?? error.message}): set HOST to an address of this machine`, isTaken: false },
      ),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}
