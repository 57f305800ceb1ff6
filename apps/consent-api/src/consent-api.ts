import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigInvalid } from '@consent-ledger/deployment';
import { publishCatalogue, RETRY_AFTER_SECONDS } from '@consent-ledger/ledger-commands';
import type { FastifyInstance } from 'fastify';
import { authenticatedClient } from './api-keys/api-key.guard';
import { ApiKeys } from './api-keys/api-keys';
import { AppModule } from './app.module';
import type { ApiConfig } from './config';
import { mountApiDocs } from './http/api-docs';
import { ErrorResponsesFilter } from './http/error-responses.filter';
import { requestErrorOptions } from './http/framework-errors';
import { acceptJsonBodiesOnly } from './http/json-bodies';
import { answerUnderRequestIds, requestIdOf } from './http/request-ids';
import { closeConnectionsLeftWithUnreadBodies, requestTimeoutOptions } from './http/stalled-requests';
import { reportAnswers, StoreOutages } from './http/store-outages';
import { loadCatalogueFile } from './ledger/catalogue-file';
import { Clock } from './ledger/clock';
import { LedgerStorage } from './ledger/ledger-storage';
import { ProofRetentionJob } from './rights/proof-retention.job';

/** A command is a few hundred bytes; 64 KiB leaves room for long justifications and nothing else. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ConsentApiOptions {
  /** Where the generated admin key is shown, once. */
  readonly announce?: (message: string) => void;
  readonly clock?: Clock;
  readonly logger?: LoggerService | LogLevel[] | false;
  /** How long after start the proof-retention schedule first looks whether a run is due (a minute unless given). */
  readonly proofRetentionFirstLookAfterMs?: number;
}

/**
 * Builds the API from a configuration, ready to `listen`: storage opened, keys loaded, routes,
 * error responses and docs in place. Closing the app closes the storage.
 */
export async function createConsentApi(config: ApiConfig, options: ConsentApiOptions = {}): Promise<NestFastifyApplication> {
  const loaded = loadCatalogueFile(config.catalogueFile);
  const clock = options.clock ?? new Clock();
  const storage = await LedgerStorage.open(config, loaded, clock);
  try {
    // Kept in the log before any choice is decided under it, so every receipt can quote it.
    const catalogue = await publishCatalogue(storage.eventStore, loaded);
    const apiKeys = config.apiKeys
      ? ApiKeys.fromGrants(config.apiKeys)
      : ApiKeys.generatedAdmin(config.dataDir, options.announce ?? ((message) => process.stdout.write(`${message}\n`)));
    await refuseKeysRenamed(apiKeys, storage);

    const adapter = new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      ...requestErrorOptions,
      ...requestTimeoutOptions(config.requestTimeoutMs),
      return503OnClosing: false,
      genReqId: requestIdOf,
    });
    answerUnderRequestIds(adapter.getInstance());
    closeConnectionsLeftWithUnreadBodies(adapter.getInstance());
    refuseRequestsWhileClosing(adapter.getInstance());
    acceptJsonBodiesOnly(adapter.getInstance(), BODY_LIMIT_BYTES);
    refuseBodiesWithoutKey(adapter.getInstance(), apiKeys);
    const outages = new StoreOutages(new Logger('ledger-storage'));
    reportAnswers(adapter.getInstance(), outages);
    // A route may ask for a larger body with @RouteConfig({ bodyLimit }) (audience lists of 10,000 ids).
    adapter.getInstance().addHook('onRoute', (route) => {
      const bodyLimit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
      if (typeof bodyLimit === 'number') route.bodyLimit = bodyLimit;
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.running({ storage, catalogue, clock, apiKeys }),
      adapter,
      { logger: options.logger ?? new Logger(), abortOnError: false, bodyParser: false },
    );
    app.useGlobalFilters(new ErrorResponsesFilter(apiKeys, outages));
    mountApiDocs(app);
    await app.init();
    if (config.proofRetentionEveryMs > 0) {
      const log = new Logger('proof-retention');
      app
        .get(ProofRetentionJob)
        .start(config.proofRetentionEveryMs, (error) => log.error(`run failed: ${(error as Error).message}`), options.proofRetentionFirstLookAfterMs);
    }
    return app;
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * A key another process on the same records gives another client's name would have its requests'
 * retries recorded again here, as the other client's keys are not this one's (found in review:
 * one command, two ConsentGiven events, during a rolling change of CONSENT_API_KEYS).
 */
async function refuseKeysRenamed(apiKeys: ApiKeys, storage: LedgerStorage): Promise<void> {
  const renamed = await storage.idempotencyRecords.rememberClientsOfKeys(apiKeys.clientsOfKeys());
  if (renamed.length === 0) return;
  throw new ConfigInvalid(
    renamed.map(
      ({ client, knownAs }) =>
        `CONSENT_API_KEYS gives client "${client}" a key that was given to client "${knownAs}" before, and idempotency keys are kept per client: keep the name "${knownAs}" for that key, or give "${client}" a new key`,
    ),
  );
}

/**
 * A request that arrives once shutdown has begun (pipelined behind one in flight on a keep-alive
 * connection) is turned away like any moment the service cannot answer: 503 with `Retry-After`,
 * in the shape of every other refusal, and the connection closed so the retry goes elsewhere.
 * Fastify's own answer had neither.
 */
function refuseRequestsWhileClosing(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    void reply
      .code(503)
      .header('Retry-After', String(RETRY_AFTER_SECONDS))
      .header('Connection', 'close')
      .send({ error: 'unavailable', message: 'the service is shutting down; retry after Retry-After seconds', requestId: request.id });
  });
}

/**
 * A body is read only for a caller with a valid key: the guard runs after parsing, so without this
 * an anonymous caller got a 400 about its JSON instead of a 401, and had up to 2 MiB parsed for
 * nothing. Public routes take no body; the guard still checks every route and its scopes.
 */
function refuseBodiesWithoutKey(fastify: FastifyInstance, keys: ApiKeys): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD' || authenticatedClient(keys, request)) return done();
    void reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'unauthorized' });
  });
}
