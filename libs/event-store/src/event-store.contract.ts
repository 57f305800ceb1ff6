import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventIdConflict, StreamRevisionConflict } from './errors';
import {
  START,
  type EventStore,
  type GlobalPosition,
  type IntegrityBreakKind,
  type NewEvent,
  type StoredEvent,
  type Subscription,
} from './event-store.port';
import { hashEvent } from './hash-chain';

/**
 * The one behaviour every event store adapter must show. Each adapter's spec calls
 * `runEventStoreContract` with a way to open a fresh store; everything below is written against
 * the port only, plus `Tampering` for stores whose rows a test can edit behind the store's back.
 *
 * Stream names carry a random prefix and global reads start from the head seen before the test,
 * so the suite also runs against a shared KurrentDB server that other runs have written to.
 */
export interface StoreUnderTest {
  readonly store: EventStore;
  /** Another instance on the same storage: a second process, or this one after a restart. */
  reopen(): Promise<EventStore>;
  /** Direct edits of stored rows, as someone with write access to the database could make. */
  readonly tamper?: Tampering;
  /** Closes every instance it opened and deletes the storage. */
  dispose(): Promise<void>;
}

export interface Tampering {
  /** UPDATE of one event's data, its hash left as it was. */
  setData(streamName: string, revision: number, data: Record<string, unknown>): Promise<void>;
  /** UPDATE of one event's data together with a recomputed hash, as a careful forger would. */
  setDataAndHash(streamName: string, revision: number, data: Record<string, unknown>, hash: string): Promise<void>;
  /** DELETE of one event row. */
  deleteEvent(streamName: string, revision: number): Promise<void>;
  /** Swaps everything but the revision and position of two events of one stream. */
  swapContents(streamName: string, revisionA: number, revisionB: number): Promise<void>;
  /** Swaps the global positions of two events of one stream. */
  swapPositions(streamName: string, revisionA: number, revisionB: number): Promise<void>;
  /** Adds one to every revision from `fromRevision` on, making room for an inserted row. */
  shiftRevisions(streamName: string, fromRevision: number): Promise<void>;
  /** INSERT of a row exactly as given, past the store: no stream head or counter is updated. */
  insertRow(event: StoredEvent): Promise<void>;
  /** DELETE of the removal records the store keeps for a stream. */
  deleteRemovalRecords(streamName: string): Promise<void>;
  /** UPDATE of the details of a stream's removal records, their hashes left as they were. */
  setRemovalDetails(streamName: string, details: Record<string, string | number | boolean>): Promise<void>;
}

export interface EventStoreContractOptions {
  open(): Promise<StoreUnderTest>;
  /** The SQL and in-memory stores number the global log 1, 2, 3, ... without holes. */
  readonly hasDensePositions: boolean;
  /** KurrentDB keeps no index of event ids across streams, so it cannot refuse a reused id. */
  readonly refusesEventIdReusedInAnotherStream: boolean;
  /** KurrentDB tombstones a removed stream: it can never be written, nor removed, again. */
  readonly writesAgainToRemovedStream: boolean;
  /** Holds `exclusively`'s work in turn across processes (PostgreSQL, SQLite); absent elsewhere (see the port). */
  readonly takesTurnsAcrossProcesses: boolean;
}

const isoUtcWithMilliseconds = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function runEventStoreContract(options: EventStoreContractOptions): void {
  let underTest: StoreUnderTest;
  let store: EventStore;
  let streams: StreamNames;

  beforeEach(async () => {
    underTest = await options.open();
    store = underTest.store;
    streams = new StreamNames();
  });

  afterEach(async () => {
    await underTest.dispose();
  });

  describe('appending and reading one stream', () => {
    it('reads back the events of a stream in the order they were appended', async () => {
      const stream = streams.named('subject-1');
      const given = [consentGiven(), consentWithdrawn(), consentGiven({ channel: 'email' })];
      await store.append(stream, given.slice(0, 2), { expectedRevision: 'no-stream' });
      await store.append(stream, given.slice(2), { expectedRevision: 1 });

      const events = await store.readStream(stream);

      expect(events.map((event) => [event.revision, event.eventId, event.type, event.data])).toEqual(
        given.map((event, revision) => [revision, event.eventId, event.type, event.data]),
      );
    });

    it('answers an append with the revisions and positions it gave the events', async () => {
      const stream = streams.named('subject-1');
      const given = [consentGiven(), consentWithdrawn()];

      const result = await store.append(stream, given, { expectedRevision: 'no-stream' });

      const stored = await store.readStream(stream);
      expect(result).toEqual({
        streamName: stream,
        events: stored.map(({ eventId, revision, position }) => ({ eventId, revision, position })),
        nextExpectedRevision: 1,
        position: stored[1].position,
        deduplicated: false,
      });
      expect(stored[1].position).toBeGreaterThan(stored[0].position);
    });

    it('reads an unknown stream as empty', async () => {
      expect(await store.readStream(streams.named('nobody'))).toEqual([]);
    });

    it('reads forwards from a revision, at most maxCount events', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 6);

      const page = await store.readStream(stream, { fromRevision: 2, maxCount: 3 });

      expect(page.map((event) => event.revision)).toEqual([2, 3, 4]);
    });

    it('reads backwards from the last revision, or from a given one', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 5);

      const fromEnd = await store.readStream(stream, { direction: 'backwards', maxCount: 2 });
      const fromTwo = await store.readStream(stream, { direction: 'backwards', fromRevision: 2 });

      expect(fromEnd.map((event) => event.revision)).toEqual([4, 3]);
      expect(fromTwo.map((event) => event.revision)).toEqual([2, 1, 0]);
    });

    it('stamps recordedAt as an ISO-8601 UTC instant with milliseconds, at the time of the append', async () => {
      const before = Date.now();
      const stream = await streams.withHistory(store, 'subject-1', 1);
      const after = Date.now();

      const [event] = await store.readStream(stream);

      expect(event.recordedAt).toMatch(isoUtcWithMilliseconds);
      // A second of slack: PostgreSQL and KurrentDB may run on another clock than the test.
      expect(Date.parse(event.recordedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(event.recordedAt)).toBeLessThanOrEqual(after + 1000);
    });

    it('keeps the schema version and metadata as given', async () => {
      const stream = streams.named('subject-1');
      const event = consentGiven({}, { schemaVersion: 3, metadata: { causationId: 'command-7', touchpoint: { shop: 'berlin-2' } } });
      await store.append(stream, [event], { expectedRevision: 'no-stream' });

      const [stored] = await store.readStream(stream);

      expect(stored.schemaVersion).toBe(3);
      expect(stored.metadata).toEqual({ causationId: 'command-7', touchpoint: { shop: 'berlin-2' } });
    });

    it('refuses appends it could not store faithfully: no events, an id that is not a UUID, a NUL character, half a surrogate pair', async () => {
      const stream = streams.named('subject-1');

      await expect(store.append(stream, [], { expectedRevision: 'any' })).rejects.toThrow(TypeError);
      await expect(store.append(stream, [{ ...consentGiven(), eventId: 'retry-7' }], { expectedRevision: 'any' })).rejects.toThrow(
        TypeError,
      );
      await expect(store.append(stream, [consentGiven({ note: 'a\u0000b' })], { expectedRevision: 'any' })).rejects.toThrow(
        TypeError,
      );
      await expect(store.append(stream, [consentGiven({ note: 'a\ud800b' })], { expectedRevision: 'any' })).rejects.toThrow(TypeError);
      expect(await store.readStream(stream)).toEqual([]);
    });

    it('keeps text that only looks like those escapes, and whole surrogate pairs', async () => {
      const stream = streams.named('subject-1');
      const note = 'typed as \\u0000 and \\ud800, with an emoji 😀';
      await store.append(stream, [consentGiven({ note })], { expectedRevision: 'any' });
      expect((await store.readStream(stream))[0].data.note).toBe(note);
    });
  });

  describe('expected revision', () => {
    it("creates a stream with 'no-stream' and refuses 'no-stream' once it exists", async () => {
      const stream = await streams.withHistory(store, 'subject-1', 2);

      const refused = await store.append(stream, [consentGiven()], { expectedRevision: 'no-stream' }).catch((error) => error);

      expect(refused).toBeInstanceOf(StreamRevisionConflict);
      expect(refused).toMatchObject({ streamName: stream, expected: 'no-stream', actual: 1 });
    });

    it("refuses 'stream-exists' for a stream that does not exist, and accepts it once it does", async () => {
      const stream = streams.named('subject-1');

      const refused = await store.append(stream, [consentGiven()], { expectedRevision: 'stream-exists' }).catch((error) => error);
      expect(refused).toBeInstanceOf(StreamRevisionConflict);
      expect(refused).toMatchObject({ actual: -1 });

      await store.append(stream, [consentGiven()], { expectedRevision: 'no-stream' });
      const accepted = await store.append(stream, [consentWithdrawn()], { expectedRevision: 'stream-exists' });
      expect(accepted.nextExpectedRevision).toBe(1);
    });

    it('accepts an exact revision only when it is the revision of the last event', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 3);

      await expect(store.append(stream, [consentGiven()], { expectedRevision: 1 })).rejects.toMatchObject({
        name: 'StreamRevisionConflict',
        expected: 1,
        actual: 2,
      });
      const accepted = await store.append(stream, [consentGiven()], { expectedRevision: 2 });
      expect(accepted.nextExpectedRevision).toBe(3);
    });

    it("treats -1 as 'no-stream'", async () => {
      const stream = streams.named('subject-1');

      await store.append(stream, [consentGiven()], { expectedRevision: -1 });

      await expect(store.append(stream, [consentGiven()], { expectedRevision: -1 })).rejects.toBeInstanceOf(StreamRevisionConflict);
    });

    it("appends with 'any' whatever state the stream is in", async () => {
      const stream = streams.named('subject-1');

      await store.append(stream, [consentGiven()], { expectedRevision: 'any' });
      const second = await store.append(stream, [consentWithdrawn()], { expectedRevision: 'any' });

      expect(second.nextExpectedRevision).toBe(1);
    });

    it('never overwrites: a refused append leaves the stream exactly as it was', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 2);
      const before = await store.readStream(stream);

      await store.append(stream, [consentWithdrawn()], { expectedRevision: 0 }).catch(() => undefined);

      expect(await store.readStream(stream)).toEqual(before);
    });

    it('lets exactly one of two writers racing on one stream win, through two store instances', async () => {
      const stream = streams.named('subject-1');
      const otherProcess = await underTest.reopen();
      const mine = consentGiven({ writer: 'first' });
      const theirs = consentGiven({ writer: 'second' });

      const outcomes = await Promise.allSettled([
        store.append(stream, [mine], { expectedRevision: 'no-stream' }),
        otherProcess.append(stream, [theirs], { expectedRevision: 'no-stream' }),
      ]);

      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
      expect(winners).toHaveLength(1);
      expect(losers).toEqual([expect.any(StreamRevisionConflict)]);
      const stored = await store.readStream(stream);
      expect(stored).toHaveLength(1);
      const winnerId = outcomes[0].status === 'fulfilled' ? mine.eventId : theirs.eventId;
      expect(stored[0].eventId).toBe(winnerId);
    });

    it('does not fail the other appends made at the same moment when one is refused', async () => {
      const existing = await streams.withHistory(store, 'subject-0', 1);
      const others = Array.from({ length: 5 }, (_, index) => streams.named(`subject-${index + 1}`));

      const outcomes = await Promise.allSettled([
        store.append(existing, [consentGiven()], { expectedRevision: 'no-stream' }),
        ...others.map((stream) => store.append(stream, [consentGiven()], { expectedRevision: 'no-stream' })),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', ...others.map(() => 'fulfilled')]);
      for (const stream of others) expect(await store.readStream(stream)).toHaveLength(1);
    });

    it('applies appends to one stream made at the same moment in the order they were made', async () => {
      const stream = streams.named('subject-1');
      const first = consentGiven();
      const second = consentWithdrawn();

      const [a, b] = await Promise.all([
        store.append(stream, [first], { expectedRevision: 'no-stream' }),
        store.append(stream, [second], { expectedRevision: 0 }),
      ]);

      expect([a.nextExpectedRevision, b.nextExpectedRevision]).toEqual([0, 1]);
      expect((await store.readStream(stream)).map((event) => event.eventId)).toEqual([first.eventId, second.eventId]);
    });

    it('lets exactly one of many concurrent appends through one instance win', async () => {
      const stream = streams.named('subject-1');

      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.append(stream, [consentGiven()], { expectedRevision: 'no-stream' })),
      );

      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason instanceof StreamRevisionConflict)).toHaveLength(9);
      expect(await store.readStream(stream)).toHaveLength(1);
    });
  });

  describe('atomic appends', () => {
    it('stores none of the events of an append that is refused part-way', async () => {
      const stream = streams.named('subject-1');
      const alreadyUsed = consentGiven();
      await store.append(streams.named('subject-2'), [alreadyUsed], { expectedRevision: 'no-stream' });
      const fresh = consentGiven();

      await store.append(stream, [fresh, { ...consentWithdrawn(), eventId: alreadyUsed.eventId }], { expectedRevision: 'any' }).catch(
        () => undefined,
      );

      expect(await store.readStream(stream)).toEqual([]);
      const retried = await store.append(stream, [fresh], { expectedRevision: 'no-stream' });
      expect(retried.deduplicated).toBe(false);
    });

    it('stores none of an append whose data cannot be serialised', async () => {
      const stream = streams.named('subject-1');

      await expect(
        store.append(stream, [consentGiven(), consentGiven({ amount: 10n as unknown as number })], { expectedRevision: 'any' }),
      ).rejects.toThrow(TypeError);

      expect(await store.readStream(stream)).toEqual([]);
    });
  });

  describe('idempotent appends', () => {
    it('stores a retried append once and answers the retry with the first result', async () => {
      const stream = streams.named('subject-1');
      const events = [consentGiven(), consentWithdrawn()];

      const first = await store.append(stream, events, { expectedRevision: 'no-stream' });
      const retry = await store.append(stream, events, { expectedRevision: 'no-stream' });

      expect(retry).toEqual({ ...first, deduplicated: true });
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('recognises a retry after the stream has moved on', async () => {
      const stream = streams.named('subject-1');
      const original = [consentGiven()];
      const first = await store.append(stream, original, { expectedRevision: 'no-stream' });
      await store.append(stream, [consentWithdrawn()], { expectedRevision: 0 });

      const retry = await store.append(stream, original, { expectedRevision: 'no-stream' });

      expect(retry).toEqual({ ...first, deduplicated: true });
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('stores one copy when a retry races with the original', async () => {
      const stream = streams.named('subject-1');
      const events = [consentGiven()];

      const [a, b] = await Promise.all([
        store.append(stream, events, { expectedRevision: 'no-stream' }),
        store.append(stream, events, { expectedRevision: 'no-stream' }),
      ]);

      expect(a.position).toBe(b.position);
      expect([a.deduplicated, b.deduplicated].sort()).toEqual([false, true]);
      expect(await store.readStream(stream)).toHaveLength(1);
    });

    it('refuses an append that repeats only some of the stored ids', async () => {
      const stream = streams.named('subject-1');
      const stored = consentGiven();
      await store.append(stream, [stored], { expectedRevision: 'no-stream' });

      const refused = await store.append(stream, [stored, consentWithdrawn()], { expectedRevision: 'any' }).catch((error) => error);

      expect(refused).toBeInstanceOf(EventIdConflict);
      expect(refused).toMatchObject({ eventId: stored.eventId });
      expect(await store.readStream(stream)).toHaveLength(1);
    });

    if (options.refusesEventIdReusedInAnotherStream) {
      it('refuses an event id already stored in another stream', async () => {
        const reused = consentGiven();
        await store.append(streams.named('subject-1'), [reused], { expectedRevision: 'no-stream' });

        const refused = await store.append(streams.named('subject-2'), [reused], { expectedRevision: 'no-stream' }).catch((error) => error);

        expect(refused).toBeInstanceOf(EventIdConflict);
        expect(await store.readStream(streams.named('subject-2'))).toEqual([]);
      });
    }
  });

  describe('the global log', () => {
    it('reads the global log after a position, at most maxCount events', async () => {
      const start = await store.headPosition();
      await streams.withHistory(store, 'subject-1', 3);
      await streams.withHistory(store, 'subject-2', 3);
      const all = streams.own(await store.readAll({ after: start }));

      const page = streams.own(await store.readAll({ after: all[1].position, maxCount: 3 }));

      expect(all).toHaveLength(6);
      expect(page.map((event) => event.eventId)).toEqual(all.slice(2, 5).map((event) => event.eventId));
    });

    it('reports the position of the last appended event as the head', async () => {
      await streams.withHistory(store, 'subject-1', 2);
      const last = await store.append(streams.named('subject-2'), [consentGiven()], { expectedRevision: 'no-stream' });

      expect(await store.headPosition()).toBe(last.position);
    });

    it('gives every reader the same order under concurrent appends to many streams', async () => {
      const start = await store.headPosition();
      const secondProcess = await underTest.reopen();
      const live = follow(secondProcess, start);
      const writers = Array.from({ length: 8 }, (_, index) => streams.named(`subject-${index}`));

      await Promise.all(
        writers.map(async (stream, index) => {
          const writer = index % 2 === 0 ? store : secondProcess;
          for (let revision = 0; revision < 15; revision += 1) {
            await writer.append(stream, [consentGiven({ revision })], { expectedRevision: revision - 1 });
          }
        }),
      );
      const fromFirst = streams.own(await store.readAll({ after: start }));
      const fromSecond = streams.own(await secondProcess.readAll({ after: start }));
      await eventually(() => expect(streams.own(live.events)).toHaveLength(120));
      await live.subscription.close();

      const order = fromFirst.map((event) => event.eventId);
      expect(fromSecond.map((event) => event.eventId)).toEqual(order);
      expect(streams.own(live.events).map((event) => event.eventId)).toEqual(order);
      expect(isStrictlyIncreasing(fromFirst.map((event) => event.position))).toBe(true);
      for (const stream of writers) {
        expect(fromFirst.filter((event) => event.streamName === stream).map((event) => event.revision)).toEqual(
          Array.from({ length: 15 }, (_, revision) => revision),
        );
      }
      if (options.hasDensePositions) {
        expect(fromFirst.map((event) => event.position)).toEqual(Array.from({ length: 120 }, (_, index) => start + BigInt(index + 1)));
      }
    });
  });

  describe('subscriptions', () => {
    it('delivers past events, says it has caught up, then delivers new events as they are appended', async () => {
      const start = await store.headPosition();
      const stream = await streams.withHistory(store, 'subject-1', 3);
      const follower = follow(store, start);
      await eventually(() => expect(streams.own(follower.events)).toHaveLength(3));
      await eventually(() => expect(follower.caughtUpAt).toBeDefined());

      await store.append(stream, [consentWithdrawn()], { expectedRevision: 2 });
      await store.append(streams.named('subject-2'), [consentGiven()], { expectedRevision: 'no-stream' });

      await eventually(() => expect(streams.own(follower.events)).toHaveLength(5));
      await follower.subscription.close();
      expect(streams.own(follower.events).map((event) => event.eventId)).toEqual(
        streams.own(await store.readAll({ after: start })).map((event) => event.eventId),
      );
    });

    it('resumes from a stored checkpoint after a restart, losing nothing and delivering nothing twice', async () => {
      const start = await store.headPosition();
      await streams.withHistory(store, 'subject-1', 4);
      const beforeRestart = follow(store, start);
      await eventually(() => expect(streams.own(beforeRestart.events)).toHaveLength(4));
      await beforeRestart.subscription.close();
      const checkpoint = beforeRestart.events.at(-1)!.position;
      await streams.withHistory(store, 'subject-2', 3);
      await store.close();

      const restarted = await underTest.reopen();
      await streams.withHistory(restarted, 'subject-3', 2);
      const afterRestart = follow(restarted, checkpoint);
      await eventually(() => expect(streams.own(afterRestart.events)).toHaveLength(5));
      await afterRestart.subscription.close();

      const delivered = [...streams.own(beforeRestart.events), ...streams.own(afterRestart.events)].map((event) => event.eventId);
      expect(delivered).toEqual(streams.own(await restarted.readAll({ after: start })).map((event) => event.eventId));
    });

    it('delivers one event at a time, waiting for the handler to finish', async () => {
      const start = await store.headPosition();
      await streams.withHistory(store, 'subject-1', 5);
      let inHandler = 0;
      let mostAtOnce = 0;
      const handled: StoredEvent[] = [];
      const subscription = store.subscribeToAll({
        after: start,
        batchSize: 2,
        onEvent: async (event) => {
          inHandler += 1;
          mostAtOnce = Math.max(mostAtOnce, inHandler);
          await new Promise((resolve) => setImmediate(resolve));
          if (streams.isOwn(event)) handled.push(event);
          inHandler -= 1;
        },
      });

      await eventually(() => expect(handled).toHaveLength(5));
      await subscription.close();
      expect(mostAtOnce).toBe(1);
    });

    it('stops and rejects done when the handler fails', async () => {
      const start = await store.headPosition();
      await streams.withHistory(store, 'subject-1', 3);
      const handlerFault = new Error('projection bug');

      const subscription = store.subscribeToAll({
        after: start,
        onEvent: (event) => {
          if (streams.isOwn(event) && event.revision === 1) throw handlerFault;
        },
      });

      await expect(subscription.done).rejects.toBe(handlerFault);
      await subscription.close();
    });

    it('can be closed from inside its own handler, which then is the last one called', async () => {
      const start = await store.headPosition();
      await streams.withHistory(store, 'subject-1', 4);
      const handled: StoredEvent[] = [];

      const subscription: Subscription = store.subscribeToAll({
        after: start,
        onEvent: async (event) => {
          if (!streams.isOwn(event)) return;
          handled.push(event);
          if (handled.length === 2) void subscription.close();
          await new Promise((resolve) => setImmediate(resolve));
        },
      });

      await expect(subscription.done).resolves.toBeUndefined();
      expect(handled.map((event) => event.revision)).toEqual([0, 1]);
    });

    it('resolves done once closed', async () => {
      const subscription = store.subscribeToAll({ after: await store.headPosition(), onEvent: () => undefined });

      await subscription.close();

      await expect(subscription.done).resolves.toBeUndefined();
    });
  });

  describe('verification', () => {
    it('reports an untouched store as intact', async () => {
      await streams.withHistory(store, 'subject-1', 3);
      const stream = await streams.withHistory(store, 'subject-2', 2);

      const whole = await store.verify();
      const one = await store.verify({ streamName: stream });

      expect(whole).toMatchObject({ intact: true });
      expect(whole.firstBreak).toBeUndefined();
      expect(one).toEqual({ intact: true, eventsChecked: 2, streamsChecked: 1 });
    });

    it('chains every event to the one before it', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 3);

      const events = await store.readStream(stream);

      expect(events[0].previousHash).toBe('0'.repeat(64));
      expect(events[1].previousHash).toBe(events[0].hash);
      expect(events[2].previousHash).toBe(events[1].hash);
      for (const event of events) expect(hashEvent(event)).toBe(event.hash);
    });

    it('reports progress while it walks the store', async () => {
      await streams.withHistory(store, 'subject-1', 3);
      const progress: number[] = [];

      const report = await store.verify({ onProgress: (checked) => progress.push(checked) });

      expect(progress.at(-1)).toBe(report.eventsChecked);
    });
  });

  describe('removing a stream on purpose', () => {
    it('reads a removed stream as empty and still verifies the store as intact', async () => {
      const removed = await streams.withHistory(store, 'subject-1', 3);
      const kept = await streams.withHistory(store, 'subject-2', 2);

      await store.removeStream(removed, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });

      expect(await store.readStream(removed)).toEqual([]);
      expect(streams.own(await store.readAll({ after: START })).map((event) => event.streamName)).toEqual([kept, kept]);
      expect(await store.verify()).toMatchObject({ intact: true });
      expect(await store.verify({ streamName: removed })).toMatchObject({ intact: true, eventsChecked: 0 });
    });

    it('keeps a stream appended to since the removal was decided, whole', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 2);
      await store.append(stream, [consentGiven({ note: 'given while the removal was being decided' })], { expectedRevision: 1 });

      await expect(store.removeStream(stream, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', expectedRevision: 1 })).rejects.toThrow(
        StreamRevisionConflict,
      );
      expect(await store.readStream(stream)).toHaveLength(3);
      expect(await store.verify()).toMatchObject({ intact: true });
      await store.removeStream(stream, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', expectedRevision: 2 });
      expect(await store.readStream(stream)).toEqual([]);
    });

    it('refuses a removal without a reason', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 1);

      await expect(store.removeStream(stream, { reason: ' ', removedAt: '2031-05-01T00:00:00.000Z' })).rejects.toThrow(TypeError);
      expect(await store.readStream(stream)).toHaveLength(1);
    });

    it("finds one stream's removal with the details given to it, and no other stream's", async () => {
      const removed = await streams.withHistory(store, 'subject-1', 3);
      const removedWithoutDetails = await streams.withHistory(store, 'subject-2', 1);
      const kept = await streams.withHistory(store, 'subject-3', 1);
      const history = await store.readStream(removed);
      const details = { runId: 'run-7', removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 3, isLate: false };

      await store.removeStream(removed, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', details });
      await store.removeStream(removedWithoutDetails, { reason: 'proof retention ended', removedAt: '2031-05-02T00:00:00.000Z' });

      expect(await store.readRemovals(removed)).toEqual([
        {
          sequence: expect.any(Number),
          streamName: removed,
          lastRevision: 2,
          positions: history.map((event) => event.position),
          lastHash: history[2].hash,
          reason: 'proof retention ended',
          removedAt: '2031-05-01T00:00:00.000Z',
          details,
          previousHash: expect.any(String),
          hash: expect.any(String),
        },
      ]);
      const [withoutDetails] = await store.readRemovals(removedWithoutDetails);
      expect(withoutDetails).toMatchObject({ streamName: removedWithoutDetails, removedAt: '2031-05-02T00:00:00.000Z' });
      expect(withoutDetails).not.toHaveProperty('details');
      expect(await store.readRemovals(kept)).toEqual([]);
      expect(await store.readRemovals(streams.named('never-written'))).toEqual([]);
      expect(await (await underTest.reopen()).readRemovals(removed)).toEqual(await store.readRemovals(removed));
      expect(await store.verify()).toMatchObject({ intact: true });
    });

    if (options.writesAgainToRemovedStream) {
      it('finds every removal of a stream written again after it was removed, oldest first', async () => {
        const stream = await streams.withHistory(store, 'subject-1', 2);
        await store.removeStream(stream, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', details: { runId: 'first' } });
        await store.append(stream, [consentGiven({ note: 'the subject came back' })], { expectedRevision: 'no-stream' });
        await store.removeStream(stream, { reason: 'proof retention ended', removedAt: '2037-05-01T00:00:00.000Z', details: { runId: 'second' } });

        const removals = await store.readRemovals(stream);

        expect(removals.map((removal) => [removal.details?.runId, removal.positions.length])).toEqual([
          ['first', 2],
          ['second', 1],
        ]);
        expect(await store.verify()).toMatchObject({ intact: true });
      });
    }

    it('refuses details that could not be read back as given, and keeps the stream', async () => {
      const stream = await streams.withHistory(store, 'subject-1', 1);
      const removal = (details: unknown) => ({ reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', details: details as Record<string, string> });

      await expect(store.removeStream(stream, removal({ run: { id: 'nested' } }))).rejects.toThrow(/detail "run" must be a string, a finite number or a boolean/);
      await expect(store.removeStream(stream, removal({ eventsRemoved: Number.NaN }))).rejects.toThrow(TypeError);
      await expect(store.removeStream(stream, removal(['run-7']))).rejects.toThrow(TypeError);
      expect(await store.readStream(stream)).toHaveLength(1);
      expect(await store.readRemovals(stream)).toEqual([]);
    });
  });

  if (options.takesTurnsAcrossProcesses) {
    describe('work that processes must do one at a time', () => {
      it('holds back the work of another opener under the same name until the first is done, and lets go if the first fails', async () => {
        const other = await underTest.reopen();
        const order: string[] = [];
        let finishFirst!: () => void;
        const firstRuns = store.exclusively!('proof-retention-runs', async () => {
          order.push('first starts');
          await new Promise<void>((resolve) => (finishFirst = resolve));
          order.push('first ends');
          throw new Error('the first run failed');
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const secondRuns = other.exclusively!('proof-retention-runs', async () => order.push('second starts'));
        const otherName = await other.exclusively!('another-job', async () => 'ran at once');
        // Appends go on meanwhile: the work holds its own lock, not the log's.
        await store.append(streams.named('subject-1'), [consentGiven()], { expectedRevision: 'no-stream' });
        await new Promise((resolve) => setTimeout(resolve, 400));
        finishFirst();

        await expect(firstRuns).rejects.toThrow('the first run failed');
        await secondRuns;
        expect(otherName).toBe('ran at once');
        expect(order).toEqual(['first starts', 'first ends', 'second starts']);
      });
    });
  }

  describe('listing streams by the start of their name', () => {
    const names = async (prefix: string, limit = 1000, after?: string) => store.listStreamNames({ prefix: streams.named(prefix), limit, ...(after === undefined ? {} : { after }) });

    it('lists the streams whose name begins with the prefix, in name order, and no other', async () => {
      for (const name of ['rights-request-2', 'rights-request-10', 'rights-request-1', 'subject-1', 'rights-request']) await streams.withHistory(store, name, 1);

      expect(await names('rights-request-')).toEqual(['rights-request-1', 'rights-request-10', 'rights-request-2'].map((name) => streams.named(name)));
      expect(await names('')).toEqual(['rights-request', 'rights-request-1', 'rights-request-10', 'rights-request-2', 'subject-1'].map((name) => streams.named(name)));
      expect(await names('nobody-')).toEqual([]);
    });

    it('lists neither the names just past the range of the prefix nor those that only share its start', async () => {
      const inside = ['rights-request-', 'rights-request--', 'rights-request-~', 'rights-request-\u{10FFFF}'];
      const outside = ['rights-request.', 'rights-request.1', 'rights-requesu', 'rights-requests-1', 'rights-request', 'rights-request,'];
      for (const name of [...outside, ...inside]) await streams.withHistory(store, name, 1);

      expect(await names('rights-request-')).toEqual(['rights-request-', 'rights-request--', 'rights-request-~', 'rights-request-\u{10FFFF}'].map((name) => streams.named(name)));
      expect(await names('rights-request-1')).toEqual([]);
    });

    it('orders names by their code points, as their UTF-8 bytes sort', async () => {
      // UTF-16 units would put the emoji (a surrogate pair, 0xD83D...) before the fullwidth z (0xFF5A).
      for (const name of ['x-\u{1F642}', 'x-\uFF5A', 'x-\u00E9', 'x-Z', 'x-a']) await streams.withHistory(store, name, 1);

      expect(await names('x-')).toEqual(['x-Z', 'x-a', 'x-\u00E9', 'x-\uFF5A', 'x-\u{1F642}'].map((name) => streams.named(name)));
      expect(await names('x-', 2, streams.named('x-\u00E9'))).toEqual(['x-\uFF5A', 'x-\u{1F642}'].map((name) => streams.named(name)));
    });

    it('gives every name exactly once across pages, each page after the last name of the one before', async () => {
      const expected = Array.from({ length: 23 }, (_, index) => streams.named(`subject-${String(index).padStart(2, '0')}`));
      await Promise.all(expected.map((name) => store.append(name, [consentGiven()], { expectedRevision: 'no-stream' })));
      await streams.withHistory(store, 'subjects', 1);

      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await names('subject-', 5, after);
        pages.push(page);
        if (page.length < 5) break;
        after = page[page.length - 1];
      }

      expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
      expect(pages.flat()).toEqual(expected);
      expect(await names('subject-', 5, streams.named('subject-22'))).toEqual([]);
      expect(await names('subject-', 3, streams.named('subject-04x'))).toEqual(['subject-05', 'subject-06', 'subject-07'].map((name) => streams.named(name)));
      expect(await names('subject-', 2, streams.named('a'))).toEqual(['subject-00', 'subject-01'].map((name) => streams.named(name)));
    });

    it('lists each stream once, however many events it holds', async () => {
      await streams.withHistory(store, 'subject-1', 5);
      await streams.withHistory(store, 'subject-2', 3);

      expect(await names('subject-', 2)).toEqual([streams.named('subject-1'), streams.named('subject-2')]);
    });

    it('does not list a removed stream', async () => {
      const removed = await streams.withHistory(store, 'subject-1', 2);
      const kept = await streams.withHistory(store, 'subject-2', 1);

      await store.removeStream(removed, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });

      expect(await names('subject-')).toEqual([kept]);
      expect(await (await underTest.reopen()).listStreamNames({ prefix: streams.named('subject-'), limit: 10 })).toEqual([kept]);
    });

    if (options.writesAgainToRemovedStream) {
      it('lists a removed stream again once it is written again', async () => {
        const stream = await streams.withHistory(store, 'subject-1', 2);
        await store.removeStream(stream, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });

        await store.append(stream, [consentGiven({ note: 'the subject came back' })], { expectedRevision: 'no-stream' });

        expect(await names('subject-')).toEqual([stream]);
      });
    }

    it('refuses a page without a positive limit', async () => {
      await expect(store.listStreamNames({ prefix: '', limit: 0 })).rejects.toThrow(TypeError);
      await expect(store.listStreamNames({ prefix: '', limit: 1.5 })).rejects.toThrow(TypeError);
    });
  });

  describe('large and unusual content', () => {
    it('reads back a stream of 5,000 events, whole and in pages', async () => {
      const stream = streams.named('subject-1');
      for (let batch = 0; batch < 10; batch += 1) {
        const events = Array.from({ length: 500 }, (_, index) => consentGiven({ sequence: batch * 500 + index }));
        await store.append(stream, events, { expectedRevision: batch * 500 - 1 });
      }

      const whole = await store.readStream(stream);
      const pages: StoredEvent[] = [];
      for (let from = 0; from < 5000; from += 1000) pages.push(...(await store.readStream(stream, { fromRevision: from, maxCount: 1000 })));
      const lastPageBackwards = await store.readStream(stream, { direction: 'backwards', maxCount: 1000 });

      expect(whole.map((event) => event.data.sequence)).toEqual(Array.from({ length: 5000 }, (_, index) => index));
      expect(pages.map((event) => event.eventId)).toEqual(whole.map((event) => event.eventId));
      expect(lastPageBackwards.map((event) => event.revision)).toEqual(Array.from({ length: 1000 }, (_, index) => 4999 - index));
      expect(await store.verify({ streamName: stream })).toMatchObject({ intact: true, eventsChecked: 5000 });
    }, 120_000);

    it('keeps emoji, right-to-left text and control characters exactly', async () => {
      const stream = streams.named('subject-🙂-עברית');
      const data = {
        name: 'Zoë 👩🏽‍⚖️ Ünïcödé',
        arabic: 'موافقة على التسويق',
        hebrew: 'הסכמה לשיווק',
        controls: '\u0001\u0007\b\t\n\u000b\f\r\u001b\u001f\u007f\u2028\u2029',
        quotes: `"'\\/`,
        nested: { 'ключ': ['🇪🇺', '\u200f', 1.5, -0.25, 1e21, true, null] },
      };
      const appended = consentGiven(data, { metadata: { note: 'نعم ✔' } });
      await store.append(stream, [appended], { expectedRevision: 'no-stream' });

      const [stored] = await store.readStream(stream);

      expect(stored.streamName).toBe(stream);
      expect(stored.data).toEqual(appended.data);
      expect(stored.metadata).toEqual({ note: 'نعم ✔' });
      expect(await store.verify({ streamName: stream })).toMatchObject({ intact: true });
    });

    it('keeps a payload of about 1 MB exactly', async () => {
      const stream = streams.named('subject-1');
      const scan = randomBytes(750_000).toString('base64');
      await store.append(stream, [consentGiven({ signedFormScan: scan })], { expectedRevision: 'no-stream' });

      const [stored] = await store.readStream(stream);

      expect(stored.data.signedFormScan).toBe(scan);
      expect(await store.verify({ streamName: stream })).toMatchObject({ intact: true });
    });
  });

  if (options.hasDensePositions) {
    describe('tamper evidence', () => {
      let tamper: Tampering;
      let stream: string;
      let history: StoredEvent[];

      beforeEach(async () => {
        if (!underTest.tamper) throw new Error('a store with dense positions must offer tampering for this suite');
        tamper = underTest.tamper;
        await streams.withHistory(store, 'subject-0', 2);
        stream = await streams.withHistory(store, 'subject-1', 4);
        await streams.withHistory(store, 'subject-2', 2);
        history = await store.readStream(stream);
      });

      const expectBreak = async (kind: IntegrityBreakKind, revision: number) => {
        for (const report of [await store.verify(), await store.verify({ streamName: stream })]) {
          expect(report.intact).toBe(false);
          expect(report.firstBreak).toMatchObject({ kind, streamName: stream, revision });
          expect(report.firstBreak!.detail.length).toBeGreaterThan(0);
        }
      };

      it('finds an event whose data was edited in the database', async () => {
        await tamper.setData(stream, 1, { purpose: 'marketing', channel: 'phone' });

        await expectBreak('altered', 1);
      });

      it('finds an edit that also recomputed the edited event’s hash', async () => {
        const forged = { ...history[1], data: { purpose: 'marketing', channel: 'phone' } };
        await tamper.setDataAndHash(stream, 1, forged.data, hashEvent(forged));

        await expectBreak('altered', 1);
      });

      it('finds the same forgery on the last event of a stream', async () => {
        const forged = { ...history[3], data: { purpose: 'marketing', channel: 'phone' } };
        await tamper.setDataAndHash(stream, 3, forged.data, hashEvent(forged));

        await expectBreak('altered', 3);
      });

      it('finds an event deleted from the middle of a stream', async () => {
        await tamper.deleteEvent(stream, 1);

        const whole = await store.verify();
        expect(whole.firstBreak).toMatchObject({ kind: 'removed', position: history[1].position });
        expect((await store.verify({ streamName: stream })).firstBreak).toMatchObject({ kind: 'removed', streamName: stream, revision: 1 });
      });

      it('finds the last event of a stream deleted', async () => {
        await tamper.deleteEvent(stream, 3);

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'removed', position: history[3].position });
        expect((await store.verify({ streamName: stream })).firstBreak).toMatchObject({ kind: 'removed', streamName: stream, revision: 3 });
      });

      it('finds the last event of the whole log deleted', async () => {
        const lastStream = streams.named('subject-2');
        const last = (await store.readStream(lastStream)).at(-1)!;
        await tamper.deleteEvent(lastStream, last.revision);

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'removed' });
      });

      it('finds two events whose contents were swapped', async () => {
        await tamper.swapContents(stream, 1, 2);

        await expectBreak('reordered', 1);
      });

      it('finds two events of a stream whose global positions were swapped', async () => {
        await tamper.swapPositions(stream, 1, 2);

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'reordered', streamName: stream });
        expect((await store.verify({ streamName: stream })).firstBreak).toMatchObject({ kind: 'reordered', streamName: stream, revision: 2 });
      });

      it('finds an event appended behind the store’s back, correctly chained', async () => {
        await tamper.insertRow(forgedEvent(history[3], 4, (await store.headPosition()) + 1n));

        await expectBreak('inserted', 4);
      });

      it('finds an event slipped into the middle of a stream, later revisions renumbered', async () => {
        await tamper.shiftRevisions(stream, 2);
        await tamper.insertRow(forgedEvent(history[1], 2, (await store.headPosition()) + 1n));

        await expectBreak('inserted', 2);
      });

      it('finds an event deleted directly next to a sanctioned removal', async () => {
        await store.removeStream(streams.named('subject-0'), { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });
        await tamper.deleteEvent(stream, 2);

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'removed', position: history[2].position });
      });

      it('finds a sanctioned removal whose record was deleted afterwards', async () => {
        const removed = streams.named('subject-0');
        const positions = (await store.readStream(removed)).map((event) => event.position);
        await store.removeStream(removed, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });
        await tamper.deleteRemovalRecords(removed);

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'removed', position: positions[0] });
      });

      it('finds the details of a sanctioned removal changed afterwards', async () => {
        const removed = streams.named('subject-0');
        await store.removeStream(removed, { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z', details: { runId: 'run-7' } });
        await tamper.setRemovalDetails(removed, { runId: 'run-8' });

        expect((await store.verify()).firstBreak).toMatchObject({ kind: 'altered', streamName: removed, detail: expect.stringContaining('changed after it was written') });
      });
    });
  }
}

/** A row a forger would write: new content, correctly chained after `previous`. */
function forgedEvent(previous: StoredEvent, revision: number, position: GlobalPosition): StoredEvent {
  const content = {
    streamName: previous.streamName,
    revision,
    eventId: randomUUID(),
    type: 'ConsentGiven',
    schemaVersion: 1,
    data: { purpose: 'marketing', channel: 'phone' },
    metadata: {},
    recordedAt: previous.recordedAt,
    previousHash: previous.hash,
  };
  return { ...content, position, hash: hashEvent(content) };
}

class StreamNames {
  private readonly prefix = `contract-${randomBytes(4).toString('hex')}`;

  named(name: string): string {
    return `${this.prefix}-${name}`;
  }

  isOwn(event: StoredEvent): boolean {
    return event.streamName.startsWith(`${this.prefix}-`);
  }

  own(events: readonly StoredEvent[]): StoredEvent[] {
    return events.filter((event) => this.isOwn(event));
  }

  async withHistory(store: EventStore, name: string, length: number): Promise<string> {
    const stream = this.named(name);
    for (let revision = 0; revision < length; revision += 1) {
      const event = revision % 2 === 0 ? consentGiven({ revision }) : consentWithdrawn({ revision });
      await store.append(stream, [event], { expectedRevision: revision - 1 });
    }
    return stream;
  }
}

function consentGiven(data: Record<string, unknown> = {}, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ConsentGiven',
    schemaVersion: 1,
    data: { purpose: 'marketing', channel: 'sms', noticeVersion: 'notice-2024-03', ...data },
    ...overrides,
  };
}

function consentWithdrawn(data: Record<string, unknown> = {}): NewEvent {
  return { eventId: randomUUID(), type: 'ConsentWithdrawn', schemaVersion: 1, data: { purpose: 'marketing', channel: 'sms', ...data } };
}

interface Follower {
  readonly events: StoredEvent[];
  readonly caughtUpAt: GlobalPosition | undefined;
  readonly subscription: Subscription;
}

function follow(store: EventStore, after: GlobalPosition): Follower {
  const events: StoredEvent[] = [];
  const follower = {
    events,
    caughtUpAt: undefined as GlobalPosition | undefined,
    subscription: undefined as unknown as Subscription,
  };
  follower.subscription = store.subscribeToAll({
    after,
    onEvent: (event) => {
      events.push(event);
    },
    onCaughtUp: (position) => {
      follower.caughtUpAt = position;
    },
  });
  return follower;
}

function isStrictlyIncreasing(positions: readonly GlobalPosition[]): boolean {
  return positions.every((position, index) => index === 0 || position > positions[index - 1]);
}

/** Re-runs an assertion until it passes or the deadline passes, then fails with its last error. */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
