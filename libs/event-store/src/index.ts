export * from './event-store.port';
export * from './errors';
export { canonicalJson, hashEvent, type ChainedContent } from './hash-chain';
export { createEventStore, connectKurrentEventStore, eventStoreConfigOf, type DeploymentLog, type EventStoreConfig } from './create-event-store';
export { createInMemoryEventStore, InMemoryEventStore, InMemoryLog, type InMemoryEventStoreOptions } from './in-memory/in-memory-event-store';
export { openSqliteEventStore, SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store';
export { openPostgresEventStore, PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { withSessionSetting } from './postgres/connection-string';
export type { KurrentEventStore, KurrentEventStoreOptions } from './kurrent/kurrent-event-store';
