import { CoalescedStreamReads } from './coalesced-stream-reads';
import type { StoredEvent } from './event-store.port';

/** A store of streams whose queries finish when the test says so, recording what each asked for. */
function heldStore(streams: Record<string, number>) {
  const queries: Array<{ streamNames: readonly string[]; fromRevisions: ReadonlyMap<string, number>; finish(): void; fail(error: Error): void }> = [];
  const eventsOf = (streamName: string, from: number): StoredEvent[] =>
    Array.from({ length: streams[streamName] ?? 0 }, (_, revision) => ({ streamName, revision }) as unknown as StoredEvent).filter(
      (event) => event.revision >= from,
    );
  const readMany = (fromRevisions: ReadonlyMap<string, number>) =>
    new Promise<Map<string, StoredEvent[]>>((resolve, reject) => {
      const streamNames = [...fromRevisions.keys()];
      queries.push({
        streamNames,
        fromRevisions,
        finish: () => resolve(new Map(streamNames.filter((name) => streams[name]).map((name) => [name, eventsOf(name, fromRevisions.get(name)!)]))),
        fail: reject,
      });
    });
  return { queries, readMany, streams };
}

describe('coalesced stream reads', () => {
  it('answers reads that arrive while queries are in flight with one query, each with its own stream', async () => {
    const store = heldStore({ a: 1, b: 2, c: 3, d: 0 });
    const reads = new CoalescedStreamReads(store.readMany, { maxInFlight: 1, maxStreamsPerQuery: 100 });

    const first = reads.read('a');
    const waiting = [reads.read('b'), reads.read('c'), reads.read('d'), reads.read('b')];
    expect(store.queries.map((query) => query.streamNames)).toEqual([['a']]);

    store.queries[0].finish();
    expect(await first).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.queries.map((query) => query.streamNames)).toEqual([['a'], ['b', 'c', 'd']]);
    store.queries[1].finish();
    const [b, c, d, bAgain] = await Promise.all(waiting);
    expect(b.map((event) => event.revision)).toEqual([0, 1]);
    expect(c.map((event) => event.streamName)).toEqual(['c', 'c', 'c']);
    expect(d).toEqual([]);
    expect(bAgain).toEqual(b);
    expect(bAgain).not.toBe(b);
  });

  it('never answers a read with a query that started before it was asked, so acknowledged appends are seen', async () => {
    const store = heldStore({ a: 1 });
    const reads = new CoalescedStreamReads(store.readMany, { maxInFlight: 1, maxStreamsPerQuery: 100 });
    const before = reads.read('a');
    // An append of a second event to `a` is acknowledged now, while the first query is running.
    store.streams.a = 2;
    const after = reads.read('a');
    store.queries[0].finish();
    await before;
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.queries).toHaveLength(2);
    store.queries[1].finish();
    expect(await after).toHaveLength(2);
  });

  it('starts reads at once while fewer queries than allowed are running, and caps the streams per query', async () => {
    const store = heldStore({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    const reads = new CoalescedStreamReads(store.readMany, { maxInFlight: 2, maxStreamsPerQuery: 2 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((name) => reads.read(name));
    expect(store.queries.map((query) => query.streamNames)).toEqual([['a'], ['b']]);
    store.queries[0].finish();
    store.queries[1].finish();
    for (let turn = 0; turn < 6; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const query of store.queries) query.finish();
    }
    expect(store.queries.slice(2).map((query) => query.streamNames)).toEqual([['c', 'd'], ['e']]);
    expect((await Promise.all(all)).map((events) => events[0].streamName)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('reads a stream once from the lowest revision asked for, and gives each reader the events from its own', async () => {
    const store = heldStore({ a: 5, b: 3 });
    const reads = new CoalescedStreamReads(store.readMany, { maxInFlight: 1, maxStreamsPerQuery: 100 });
    const first = reads.read('b');
    const waiting = [reads.read('a', 3), reads.read('a', 1), reads.read('b', 2)];

    store.queries[0].finish();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.queries[1].fromRevisions).toEqual(new Map([['a', 1], ['b', 2]]));
    store.queries[1].finish();

    const [aFrom3, aFrom1, bFrom2] = await Promise.all(waiting);
    expect(aFrom3.map((event) => event.revision)).toEqual([3, 4]);
    expect(aFrom1.map((event) => event.revision)).toEqual([1, 2, 3, 4]);
    expect(bFrom2.map((event) => event.revision)).toEqual([2]);
  });

  it('fails every read of a failed query, and keeps serving the next ones', async () => {
    const store = heldStore({ a: 1, b: 1 });
    const reads = new CoalescedStreamReads(store.readMany, { maxInFlight: 1, maxStreamsPerQuery: 100 });
    const failing = reads.read('a');
    store.queries[0].fail(new Error('connection lost'));
    await expect(failing).rejects.toThrow('connection lost');
    const next = reads.read('b');
    store.queries[1].finish();
    expect(await next).toHaveLength(1);
  });
});
