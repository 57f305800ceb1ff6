import { join } from 'node:path';
import { type Instant, PROOF_RETENTION_RUNS_STREAM } from '@consent-ledger/domain';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { InMemoryVault } from '@consent-ledger/personal-data';
import { loadCatalogueFile } from '../ledger/catalogue-file';
import { REPOSITORY_ROOT } from '../testing/test-api';
import { ProofRetentionJob } from './proof-retention.job';
import { RightsRequests } from './rights-requests';

const DAY = 86_400_000;

/**
 * The store, whose reads of the recorded runs wait until `answer` is called: the schedule's look
 * is then under way for as long as the test needs.
 */
function storeAnsweringRunReadsWhenTold(store: EventStore) {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  let asked!: () => void;
  const wasAsked = new Promise<void>((resolve) => (asked = resolve));
  const slow = new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'readStream') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<EventStore['readStream']>) => {
        if (args[0] === PROOF_RETENTION_RUNS_STREAM) {
          asked();
          await answered;
        }
        return target.readStream(...args);
      };
    },
  });
  return { slow, wasAsked, answer };
}

describe('stopping the proof-retention schedule', () => {
  // Found in review: the look after a start reads the last run outside the run's turn, which a
  // stop does not wait for; a look answered after the stop then made a run of its own, after the
  // process had been told its job was done and while it closed the store and the key store.
  it('makes no run after the stop when the stop comes while the schedule looks whether one is due', async () => {
    const store = createInMemoryEventStore();
    const { slow, wasAsked, answer } = storeAnsweringRunReadsWhenTold(store);
    const job = new ProofRetentionJob({
      store: slow,
      vault: new InMemoryVault(),
      catalogue: loadCatalogueFile(join(REPOSITORY_ROOT, 'catalogues', 'proximus.json')),
      clock: { now: () => new Date().toISOString() as Instant },
      rightsRequests: new RightsRequests(store),
    });
    const errors: unknown[] = [];
    job.start(DAY, (error) => errors.push(error), 0);
    await wasAsked;

    const stopped = job.stop();
    answer();
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(await store.readStream(PROOF_RETENTION_RUNS_STREAM)).toEqual([]);
    expect(errors).toEqual([]);
    await store.close();
  });
});
