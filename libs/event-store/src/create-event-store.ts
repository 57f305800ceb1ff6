import { join } from 'node:path';
import type { EventStore } from './event-store.port';
import { createInMemoryEventStore } from './in-memory/in-memory-event-store';
import type { KurrentEventStore, KurrentEventStoreOptions } from './kurrent/kurrent-event-store';
import { openPostgresEventStore } from './postgres/postgres-event-store';
import { openSqliteEventStore } from './sqlite/sqlite-event-store';

/** Which store to open; the apps build this from their validated config. */
export type EventStoreConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number; readonly answerTimeoutMs?: number; readonly silenceTimeoutMs?: number }
  | { readonly kind: 'kurrentdb'; readonly url: string }
  | { readonly kind: 'in-memory' };

/** How a deployment names its log: the same variables for the API, the projector and the auditor CLI. */
export interface DeploymentLog {
  readonly eventStore: 'sqlite' | 'postgres' | 'kurrentdb';
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly eventStoreUrl?: string;
}

/**
 * Where a deployment's log lives: `events.sqlite` under the data directory (the embedded default),
 * PostgreSQL, or KurrentDB. The apps validated that the URL their kind needs is set.
 * `answerTimeoutMs`, for a process serving commands and decisions, and `silenceTimeoutMs`, for the
 * auditor CLI, go to PostgreSQL's store (see `PostgresEventStoreOptions`); SQLite is a local file,
 * and KurrentDB's client keeps its own deadlines.
 */
export function eventStoreConfigOf(
  deployment: DeploymentLog,
  { answerTimeoutMs, silenceTimeoutMs }: { readonly answerTimeoutMs?: number; readonly silenceTimeoutMs?: number } = {},
): EventStoreConfig {
  switch (deployment.eventStore) {
    case 'sqlite':
      return { kind: 'sqlite', file: join(deployment.dataDir, 'events.sqlite') };
    case 'postgres':
      return {
        kind: 'postgres',
        url: required(deployment.databaseUrl, 'DATABASE_URL'),
        ...(answerTimeoutMs !== undefined && { answerTimeoutMs }),
        ...(silenceTimeoutMs !== undefined && { silenceTimeoutMs }),
      };
    case 'kurrentdb':
      return { kind: 'kurrentdb', url: required(deployment.eventStoreUrl, 'EVENTSTORE_URL') };
  }
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new TypeError(`${name} is needed for this event store`);
  return value;
}

export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  switch (config.kind) {
    case 'sqlite':
      return openSqliteEventStore({ file: config.file });
    case 'postgres':
      return openPostgresEventStore({ url: config.url, poolSize: config.poolSize, answerTimeoutMs: config.answerTimeoutMs, silenceTimeoutMs: config.silenceTimeoutMs });
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
