import { randomUUID } from 'node:crypto';
import { toAppendRequest, type AppendRequest } from './append-request';
import { EventStoreUnavailable } from './errors';
import type { AppendResult } from './event-store.port';
import { GroupCommitQueue, type GroupCommitOptions } from './group-commit';

/** A writer that records the groups it is given and lets the test decide when each one commits. */
class RecordingWriter {
  readonly groups: string[][] = [];
  private pending: Array<() => void> = [];
  failWhenGroupHas?: string;

  readonly write = async (group: readonly AppendRequest[]): Promise<Array<AppendResult | Error>> => {
    const streams = group.map((request) => request.streamName);
    this.groups.push(streams);
    await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.failWhenGroupHas && streams.includes(this.failWhenGroupHas)) throw new Error(`cannot store ${this.failWhenGroupHas}`);
    return group.map((request, index) => ({
      streamName: request.streamName,
      events: [],
      nextExpectedRevision: index,
      position: BigInt(index + 1),
      deduplicated: false,
    }));
  };

  commitAll(): void {
    const pending = this.pending;
    this.pending = [];
    for (const commit of pending) commit();
  }

  async untilWriting(groups: number): Promise<void> {
    while (this.groups.length < groups || this.pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const options: GroupCommitOptions = { maxGroupsInFlight: 1, maxEventsPerGroup: 3, maxPayloadPerGroup: 1_000_000, collect: 'when-idle' };

function appendTo(streamName: string, data: Record<string, unknown> = {}): AppendRequest {
  return toAppendRequest(streamName, [{ eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data }], 'any');
}

describe('group commit', () => {
  it('never has two transactions in flight for one stream, so its appends apply in the order they were made', async () => {
    const writer = new RecordingWriter();
    const queue = new GroupCommitQueue(writer.write, { ...options, maxGroupsInFlight: 2 });

    const appends = [queue.enqueue(appendTo('subject-1')), queue.enqueue(appendTo('subject-1')), queue.enqueue(appendTo('subject-2'))];
    await writer.untilWriting(2);
    const whileWriting = [...writer.groups];
    writer.commitAll();
    await writer.untilWriting(3);
    writer.commitAll();
    await Promise.all(appends);

    expect(whileWriting).toEqual([['subject-1'], ['subject-2']]);
    expect(writer.groups).toEqual([['subject-1'], ['subject-2'], ['subject-1']]);
  });

  it('writes the appends that arrive during a transaction together in the next one', async () => {
    const writer = new RecordingWriter();
    const queue = new GroupCommitQueue(writer.write, options);

    const first = queue.enqueue(appendTo('subject-1'));
    await writer.untilWriting(1);
    const later = [queue.enqueue(appendTo('subject-2')), queue.enqueue(appendTo('subject-3'))];
    writer.commitAll();
    await first;
    await writer.untilWriting(2);
    writer.commitAll();
    await Promise.all(later);

    expect(writer.groups).toEqual([['subject-1'], ['subject-2', 'subject-3']]);
  });

  it('keeps a transaction within the event cap, leaving the rest for the next one', async () => {
    const writer = new RecordingWriter();
    const queue = new GroupCommitQueue(writer.write, options);
    const blocker = queue.enqueue(appendTo('subject-0'));
    await writer.untilWriting(1);

    const appends = ['subject-1', 'subject-2', 'subject-3', 'subject-4'].map((stream) => queue.enqueue(appendTo(stream)));
    writer.commitAll();
    await blocker;
    await writer.untilWriting(2);
    writer.commitAll();
    await writer.untilWriting(3);
    writer.commitAll();
    await Promise.all(appends);

    expect(writer.groups.slice(1)).toEqual([['subject-1', 'subject-2', 'subject-3'], ['subject-4']]);
  });

  it('fails only the append whose content the store refused, writing the others one by one', async () => {
    const writer = new RecordingWriter();
    writer.failWhenGroupHas = 'subject-2';
    const queue = new GroupCommitQueue(writer.write, options);
    const blocker = queue.enqueue(appendTo('subject-0'));
    await writer.untilWriting(1);
    const outcomes = Promise.allSettled(['subject-1', 'subject-2', 'subject-3'].map((stream) => queue.enqueue(appendTo(stream))));
    writer.commitAll();
    await blocker;

    for (let groups = 2; groups <= 5; groups += 1) {
      await writer.untilWriting(groups);
      writer.commitAll();
    }

    expect((await outcomes).map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(writer.groups.slice(1)).toEqual([['subject-1', 'subject-2', 'subject-3'], ['subject-1'], ['subject-2'], ['subject-3']]);
  });

  it('fails the whole group at once when the store is unreachable', async () => {
    const groupsTried: number[] = [];
    const queue = new GroupCommitQueue(
      async (group) => {
        groupsTried.push(group.length);
        throw new EventStoreUnavailable('connection refused');
      },
      { ...options, collect: 'next-turn' },
    );

    const outcomes = await Promise.allSettled([queue.enqueue(appendTo('subject-1')), queue.enqueue(appendTo('subject-2'))]);

    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason instanceof EventStoreUnavailable)).toEqual([true, true]);
    expect(groupsTried).toEqual([2]);
  });
});
