import type { Catalogue } from '@consent-ledger/domain';
import type { EventStore } from '@consent-ledger/event-store';
import { catalogueRulesOf, DECISION_RULES_VERSION } from './catalogue-rules';
import { ProjectedReadModels } from './read-models';
import type { ReadModelStorage } from './storage/read-model-storage';
import { PostgresReadModelStorage } from './storage/postgres/postgres-read-model-storage';
import { SqliteReadModelStorage } from './storage/sqlite/sqlite-read-model-storage';

export type ReadModelStorageOptions =
  /** Embedded mode: `${DATA_DIR}/state.sqlite`. */
  | { readonly kind: 'sqlite'; readonly file: string }
  /** Production: the `rm_` tables of the connection's current schema. */
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number; readonly applicationName?: string; readonly answerTimeoutMs?: number };

export async function openReadModelStorage(options: ReadModelStorageOptions): Promise<ReadModelStorage> {
  switch (options.kind) {
    case 'sqlite':
      return new SqliteReadModelStorage({ file: options.file });
    case 'postgres':
      return PostgresReadModelStorage.open(options);
  }
}

export interface CreateReadModelsOptions {
  readonly storage: ReadModelStorageOptions;
  readonly catalogue: Catalogue;
  /**
   * Whether this process keeps the read models up to date (and so decides which rules their rows
   * follow). One that only reads them answers under its own catalogue from the ledgers they hold,
   * and must not empty shared tables because its catalogue differs from the keepers'.
   */
  readonly keepsThem: boolean;
  /** Needed for audience questions about an instant before a subject's latest choice. */
  readonly store?: EventStore;
  readonly waitTimeoutMs?: number;
  /** Told when an edited catalogue makes the read models rebuild (default: console). */
  readonly log?: { warn(message: string): void };
}

/**
 * Has the read models follow the rules of this process's catalogue (and code): under other rules
 * they are emptied and rebuilt (see `followCatalogue`). Only the process about to keep them does
 * this: a projector once elected to, never one standing by or publishing a feed of its own.
 */
export async function followCatalogueRules(readModels: ProjectedReadModels, log: { warn(message: string): void } = console): Promise<void> {
  const rules = catalogueRulesOf(readModels.catalogue);
  const followed = await readModels.storage.followCatalogue(rules);
  if (followed.outcome !== 'rebuilt') return;
  readModels.checkpointRewound(0n);
  log.warn(
    `the rules changed (catalogue ${followed.previousVersion} → ${rules.version}, or this code's rules of decision, now version ${DECISION_RULES_VERSION}): the read models rebuild from the log, and every feed publishes every subject again once they are back`,
  );
}

/**
 * Has the read models follow the log now opened: built from another one (a backup of the log
 * restored, or its file replaced or deleted, while they were kept), they would answer from events
 * the log no longer holds and never apply the new events at positions they think they passed
 * (found in review: an objection recorded after a restore was never projected, and audiences kept
 * the person in). Told by the event at the checkpoint: the log ends before it, or holds another
 * event (or none) there. Then they are emptied and rebuilt as after a rule change, and every feed
 * publishes every subject again. Only the process about to keep them does this.
 */
export async function followLog(readModels: ProjectedReadModels, store: EventStore, log: { warn(message: string): void } = console): Promise<void> {
  const applied = await readModels.storage.lastApplied();
  if (applied.position === 0n) return;
  const head = await store.headPosition();
  // KurrentDB's positions are not dense: the position before the checkpoint is no record's, and a
  // read from it is not known to land on the checkpoint's event (never run here), so there only a
  // log ending before the checkpoint tells; a rebuild at every start would cost hours at scale.
  const canReadAtCheckpoint = store.kind !== 'kurrentdb' && applied.eventId !== undefined;
  const found = head < applied.position || !canReadAtCheckpoint ? undefined : (await store.readAll({ after: applied.position - 1n, maxCount: 1 }))[0];
  const atCheckpoint = found?.position === applied.position ? found : undefined;
  // Without a recorded id (a checkpoint written before it was) only a log ending before it tells.
  // A stream removed at the end of its proof retention leaves no event there either: the rebuild
  // that follows, if the checkpoint rested on its last event, is the price of telling logs apart.
  const isSameLog = head >= applied.position && (!canReadAtCheckpoint || atCheckpoint?.eventId === applied.eventId);
  if (isSameLog) return;
  await readModels.storage.rebuildForAnotherLog(head);
  readModels.checkpointRewound(0n);
  const whatTheLogHolds =
    head < applied.position ? `the log opened ends at position ${head}` : atCheckpoint ? `the log opened holds event ${atCheckpoint.eventId} there` : 'the log opened holds no event there';
  log.warn(
    `the read models were built from another log than the one opened (they applied up to position ${applied.position}, event ${applied.eventId ?? 'unrecorded'}; ${whatTheLogHolds}): ` +
      'a backup of the log was restored, or its file replaced, while they were kept. They rebuild from the log now, and every feed publishes every subject again once they are back',
  );
}

/**
 * Opens the read models (creating or migrating their tables and, in a process that keeps them,
 * rebuilding them if the catalogue's rules changed since they were decided). Pair with
 * `startProjections` in the process that keeps them up to date; other processes only read.
 * `close()` closes the storage.
 */
export async function createReadModels(options: CreateReadModelsOptions): Promise<ProjectedReadModels & { close(): Promise<void> }> {
  const storage = await openReadModelStorage(options.storage);
  const readModels = new ProjectedReadModels({ storage, catalogue: options.catalogue, store: options.store, waitTimeoutMs: options.waitTimeoutMs });
  if (options.keepsThem) {
    const store = options.store;
    await (async () => {
      if (store) await followLog(readModels, store, options.log);
      await followCatalogueRules(readModels, options.log);
    })().catch(async (error) => {
      await storage.close();
      throw error;
    });
  }
  const closeWatch = readModels.close.bind(readModels);
  return Object.assign(readModels, {
    async close() {
      await closeWatch();
      await storage.close();
    },
  });
}
