import { randomUUID } from 'node:crypto';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { describeWithPostgres } from '../../../../test/support/services';
import { AppendOutcomeUnknown, EventStoreUnavailable } from '../errors';
import type { NewEvent } from '../event-store.port';
import { openPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store';

const ANSWER_TIMEOUT_MS = 1000;
/** Room for the test's own work on a busy two-core machine. */
const MARGIN_MS = 1500;
/** TCP's retransmission backoff after a long cut (a minute or more): longer than these tests. */
const RETRANSMISSION_BACKOFF_MS = 120_000;

// A network cut that leaves the connections open (packets dropped, no reset) held every
// statement already sent for as long as it lasted, and after it healed until TCP's
// retransmission got through; behind the append in flight, the group commit held every other
// append of the process (found in SRE review).
describeWithPostgres('the PostgreSQL event store when PostgreSQL stops answering on open connections', () => {
  let database: PostgresBehindProxy;
  const stores: PostgresEventStore[] = [];
  const open = async (options: Partial<PostgresEventStoreOptions> = {}) => {
    const store = await openPostgresEventStore({ url: database.url, poolSize: 4, answerTimeoutMs: ANSWER_TIMEOUT_MS, ...options });
    stores.push(store);
    return store;
  };
  beforeEach(async () => (database = await postgresBehindProxy('cl_answer_timeout')));
  afterEach(async () => {
    await database.proxy.restore();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await database.close();
  });

  it("fails an append, a stream read and the stream's removals sent into the cut within the answer timeout, the append as maybe committed", async () => {
    const store = await open();
    // Connections open for each, so that all are sent rather than wait for one.
    await Promise.all([
      store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' }),
      store.readStream('subject-2'),
      store.readStream('subject-3'),
      store.readRemovals('subject-2'),
    ]);

    database.proxy.freeze();
    const asked = Date.now();
    const [append, read, removals] = await Promise.allSettled([
      store.append('subject-1', [consentGiven()], { expectedRevision: 0 }),
      store.readStream('subject-2'),
      store.readRemovals('subject-2'),
    ]);

    expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(append).toEqual({ status: 'rejected', reason: expect.any(AppendOutcomeUnknown) });
    expect(read).toEqual({ status: 'rejected', reason: expect.any(EventStoreUnavailable) });
    expect(removals).toEqual({ status: 'rejected', reason: expect.any(EventStoreUnavailable) });
  });

  it('appends and reads at once once the network heals, on connections other than those still waiting for their retransmission', async () => {
    const store = await open();
    await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
    database.proxy.freeze();
    const cutOff = await Promise.allSettled([store.append('subject-1', [consentGiven()], { expectedRevision: 0 }), store.readStream('subject-2')]);
    expect(cutOff.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);

    database.proxy.heal(RETRANSMISSION_BACKOFF_MS);
    // More rounds than the pool has connections: a connection given back after its statement
    // timed out would be handed out again, and its statement would wait behind the lost one.
    for (let round = 0; round < 6; round += 1) {
      const asked = Date.now();
      await Promise.all([store.append(`subject-after-${round}`, [consentGiven()], { expectedRevision: 'no-stream' }), store.readStream('subject-1')]);
      expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS);
    }
    expect(await store.readStream('subject-1')).toHaveLength(1);
  });

  // /health probes the store every few seconds, and a load balancer's probes keep coming through a cut.
  it('answers health probes sent into the cut not ready within the answer timeout, and they keep no connection from appends once it heals', async () => {
    const store = await open();
    await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });

    database.proxy.freeze();
    const probedAt = Date.now();
    const probes = await Promise.all(Array.from({ length: 12 }, () => store.health()));
    expect(Date.now() - probedAt).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(probes.every((probe) => !probe.ready)).toBe(true);

    database.proxy.heal(RETRANSMISSION_BACKOFF_MS);
    const asked = Date.now();
    await store.append('subject-2', [consentGiven()], { expectedRevision: 'no-stream' });
    expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS);
    expect(await store.health()).toEqual({ ready: true });
  });

  it.each([
    ['in one statement, its stream head known', 'event-store-write-with-known-heads', {}],
    // The test seam turns the one-statement path off.
    ['in a transaction', 'COMMIT', { forTestsOnly: { beforeCommit: async () => undefined } }],
  ])('answers the retry of an append committed %s whose answer was lost with the first positions, and holds its events once', async (_, marker, options) => {
    const store = await open(options);
    const events = [consentGiven(), consentGiven()];
    const answerLost = database.proxy.loseAnswersAfter(marker);

    const asked = Date.now();
    await expect(store.append('subject-1', events, { expectedRevision: 'no-stream' })).rejects.toBeInstanceOf(AppendOutcomeUnknown);
    expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    await answerLost;

    const committed = await store.readStream('subject-1');
    expect(committed.map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
    const retry = await store.append('subject-1', events, { expectedRevision: 'no-stream' });
    expect(retry).toMatchObject({
      deduplicated: true,
      position: committed[1].position,
      events: committed.map(({ eventId, revision, position }) => ({ eventId, revision, position })),
    });
    expect(await store.readAll()).toEqual(committed);
  });

  // A database restarting or failing over closes the connection under the statement: it may have
  // committed first. Told "nothing was recorded", a caller may send the choice again under a new
  // key, and it would be recorded twice.
  it('rejects an append whose one statement lost its connection as maybe committed, when the database is then out of reach', async () => {
    const store = await open();
    await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
    const events = [consentGiven()];
    const sent = database.proxy.loseAnswersAfter('event-store-write-with-known-heads');

    const appending = store.append('subject-1', events, { expectedRevision: 0 });
    await sent;
    await database.proxy.cut();

    await expect(appending).rejects.toBeInstanceOf(AppendOutcomeUnknown);
    await database.proxy.restore();
    expect((await store.readStream('subject-1')).map((event) => event.eventId)).toContain(events[0].eventId);
  });

  // A COMMIT lost in the cut leaves the transaction open on the server, which does not hear of the
  // connection's end either before TCP's retransmission gets through: it held the position
  // counter's lock, and every append after the cut healed waited for it and failed.
  it('appends at once after the cut heals, though a transaction whose COMMIT it swallowed is still open on the server', async () => {
    const store = await open({
      forTestsOnly: {
        beforeCommit: async () => {
          if (!isFirstCommit) return;
          isFirstCommit = false;
          database.proxy.freeze();
        },
      },
    });
    let isFirstCommit = true;
    const abandoned = [consentGiven()];
    await expect(store.append('subject-1', abandoned, { expectedRevision: 'no-stream' })).rejects.toBeInstanceOf(AppendOutcomeUnknown);

    database.proxy.heal(RETRANSMISSION_BACKOFF_MS);
    const asked = Date.now();
    const next = await store.append('subject-2', [consentGiven()], { expectedRevision: 'no-stream' });
    expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(next.position).toBe(1n);
    expect(await store.readStream('subject-1')).toEqual([]);
    const retried = await store.append('subject-1', abandoned, { expectedRevision: 'no-stream' });
    expect((await store.readAll()).map((event) => event.eventId)).toEqual([next.events[0].eventId, retried.events[0].eventId]);
  });

  it('lets a verify wait in the middle of its walk longer than the answer timeout, idle in its transaction: maintenance has none', async () => {
    const store = await open();
    // One page more than a verify reads at once, so it is cut off between two pages.
    await store.append('subject-1', Array.from({ length: 5001 }, consentGiven), { expectedRevision: 'no-stream' });

    let cutAfterFirstPage!: () => void;
    const isCut = new Promise<void>((resolve) => (cutAfterFirstPage = resolve));
    const verifying = store.verify({
      onProgress: (checked) => {
        if (checked !== 5000) return;
        database.proxy.freeze();
        cutAfterFirstPage();
      },
    });
    await isCut;
    await new Promise((resolve) => setTimeout(resolve, 2 * ANSWER_TIMEOUT_MS));
    await database.proxy.restore();

    await expect(verifying).resolves.toMatchObject({ intact: true, eventsChecked: 5001 });
  });
});

function consentGiven(): NewEvent {
  return { eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data: { purpose: 'marketing', channel: 'sms' } };
}
