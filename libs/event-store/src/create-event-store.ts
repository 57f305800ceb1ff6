import type { EventStore } from './event-store.port';
import { createInMemoryEventStore } from './in-memory/in-memory-event-store';
import type { KurrentEventStore, KurrentEventStoreOptions } from './kurrent/kurrent-event-store';
import { openPostgresEventStore } from './postgres/postgres-event-store';
import { openSqliteEventStore } from './sqlite/sqlite-event-store';

/** Which store to open; the apps build this from their validated config. */
export type EventStoreConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  | { readonly kind: 'kurrentdb'; readonly url: string }
  | { readonly kind: 'in-memory' };

export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteEventStore({ file: config.file });
    case 'postgres':
      return openPostgresEventStore({ url: config.url, poolSize: config.poolSize });
    case 'kurrentdb':
      return connectKurrentEventStore({ url: config.url });
    case 'in-memory':
      return createInMemoryEventStore();
    default:
      return unknownKind(config);
  }
}

function unknownKind(config: never): never {
  throw new TypeError(`unknown event store kind in ${JSON.stringify(config)}`);
}

/**
 * KurrentDB's client loads a native bridge and takes a few hundred milliseconds to require, so it
 * is loaded only when a KurrentDB store is actually asked for, not by every import of this library.
 */
export function connectKurrentEventStore(options: KurrentEventStoreOptions): KurrentEventStore {
  const adapter = require('./kurrent/kurrent-event-store') as typeof import('./kurrent/kurrent-event-store');
  return adapter.connectKurrentEventStore(options);
}
