import { runEventStoreContract } from '../event-store.contract';
import { connectKurrentEventStore, type KurrentEventStore } from './kurrent-event-store';

/**
 * Runs only against a real KurrentDB server named by EVENTSTORE_URL (none can run on the
 * development machines). jest's default test regex leaves `*.kurrent.spec.ts` out unless it is set.
 */
const url = process.env.EVENTSTORE_URL;

if (url) {
  describe('KurrentDB event store', () => {
    runEventStoreContract({
      hasDensePositions: false,
      refusesEventIdReusedInAnotherStream: false,
      writesAgainToRemovedStream: false,
      takesTurnsAcrossProcesses: false,
      async open() {
        const instances: KurrentEventStore[] = [connectKurrentEventStore({ url })];
        return {
          store: instances[0],
          async reopen() {
            const instance = connectKurrentEventStore({ url });
            instances.push(instance);
            return instance;
          },
          async dispose() {
            await Promise.all(instances.map((instance) => instance.close()));
          },
        };
      },
    });
  });
}
