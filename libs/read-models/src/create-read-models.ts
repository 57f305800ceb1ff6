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
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number; readonly applicationName?: string };

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
 * Opens the read models (creating or migrating their tables and, in a process that keeps them,
 * rebuilding them if the catalogue's rules changed since they were decided). Pair with
 * `startProjections` in the process that keeps them up to date; other processes only read.
 * `close()` closes the storage.
 */
export async function createReadModels(options: CreateReadModelsOptions): Promise<ProjectedReadModels & { close(): Promise<void> }> {
  const storage = await openReadModelStorage(options.storage);
  const readModels = new ProjectedReadModels({ storage, catalogue: options.catalogue, store: options.store, waitTimeoutMs: options.waitTimeoutMs });
  if (options.keepsThem) {
    await followCatalogueRules(readModels, options.log).catch(async (error) => {
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
