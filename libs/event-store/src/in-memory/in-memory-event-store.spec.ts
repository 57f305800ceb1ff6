import type { StoredEvent } from '../event-store.port';
import { runEventStoreContract, type Tampering } from '../event-store.contract';
import { createInMemoryEventStore, InMemoryLog, type InMemoryEventStore } from './in-memory-event-store';

describe('in-memory event store', () => {
  runEventStoreContract({
    hasDensePositions: true,
    refusesEventIdReusedInAnotherStream: true,
    writesAgainToRemovedStream: true,
    takesTurnsAcrossProcesses: false,
    async open() {
      const log = new InMemoryLog();
      const instances: InMemoryEventStore[] = [createInMemoryEventStore({ log })];
      return {
        store: instances[0],
        async reopen() {
          const instance = createInMemoryEventStore({ log });
          instances.push(instance);
          return instance;
        },
        tamper: tamperingWith(log),
        async dispose() {
          await Promise.all(instances.map((instance) => instance.close()));
        },
      };
    },
  });
});

/** The in-memory stand-in for raw SQL against the stored rows. */
function tamperingWith(log: InMemoryLog): Tampering {
  const isAt = (streamName: string, revision: number) => (event: StoredEvent) =>
    event.streamName === streamName && event.revision === revision;
  const find = (streamName: string, revision: number) => log.all.find(isAt(streamName, revision))!;

  return {
    async setData(streamName, revision, data) {
      log.rewriteForTests((events) => events.map((event) => (isAt(streamName, revision)(event) ? { ...event, data } : event)));
    },
    async setDataAndHash(streamName, revision, data, hash) {
      log.rewriteForTests((events) => events.map((event) => (isAt(streamName, revision)(event) ? { ...event, data, hash } : event)));
    },
    async deleteEvent(streamName, revision) {
      log.rewriteForTests((events) => events.filter((event) => !isAt(streamName, revision)(event)));
    },
    async swapContents(streamName, revisionA, revisionB) {
      const a = find(streamName, revisionA);
      const b = find(streamName, revisionB);
      log.rewriteForTests((events) =>
        events.map((event) => {
          if (event === a) return { ...b, revision: a.revision, position: a.position };
          if (event === b) return { ...a, revision: b.revision, position: b.position };
          return event;
        }),
      );
    },
    async swapPositions(streamName, revisionA, revisionB) {
      const a = find(streamName, revisionA);
      const b = find(streamName, revisionB);
      log.rewriteForTests((events) =>
        events.map((event) => {
          if (event === a) return { ...a, position: b.position };
          if (event === b) return { ...b, position: a.position };
          return event;
        }),
      );
    },
    async shiftRevisions(streamName, fromRevision) {
      log.rewriteForTests((events) =>
        events.map((event) =>
          event.streamName === streamName && event.revision >= fromRevision ? { ...event, revision: event.revision + 1 } : event,
        ),
      );
    },
    async insertRow(row) {
      log.rewriteForTests((events) => [...events, row]);
    },
    async deleteRemovalRecords(streamName) {
      log.removals = log.removals.filter((removal) => removal.streamName !== streamName);
    },
    async setRemovalDetails(streamName, details) {
      log.removals = log.removals.map((removal) => (removal.streamName === streamName ? { ...removal, details } : removal));
    },
  };
}
