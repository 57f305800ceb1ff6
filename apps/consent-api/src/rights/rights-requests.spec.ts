import { randomUUID } from 'node:crypto';
import { type Instant, type RightsRequestCommand, rightsRequestStreamOf, type SubjectId } from '@consent-ledger/domain';
import { createInMemoryEventStore, type EventStore, type ListStreamNamesOptions, START } from '@consent-ledger/event-store';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';
import { RightsRequestRuleBroken } from '@consent-ledger/domain';
import { RightsRequests } from './rights-requests';

const NOW = '2024-03-05T10:00:00.000Z' as Instant;
const capture = { actor: { kind: 'agent' as const, id: 'dpo-clerk-4' }, recordedAt: NOW };
const untraced = () => ({ client: 'dpo-office', idempotencyKey: randomUUID(), requestFingerprint: 'call' });
const receive: RightsRequestCommand = {
  type: 'ReceiveRightsRequest',
  requestId: 'request-1',
  capture,
  data: { subjectId: 'subject-1' as SubjectId, kind: 'erasure', touchpoint: 'dpo-email', receivedAt: '2024-03-01T10:00:00.000Z' as Instant },
};

describe('rights requests on their streams', () => {
  // Found while fixing retries: event ids derived from the request and revision made the store take
  // the second of two calls decided on the same revision for a retry of the first, and both clerks
  // were told their answer was recorded.
  it('tells one of two clerks closing a request at once that it was already closed', async () => {
    const store = createInMemoryEventStore();
    const requests = new RightsRequests(store);
    await requests.handle(receive, untraced());

    const [completed, refused] = await Promise.allSettled([
      requests.handle({ type: 'CompleteRightsRequest', requestId: 'request-1', capture, data: {} }, untraced()),
      requests.handle({ type: 'RefuseRightsRequest', requestId: 'request-1', capture, data: { reason: 'excessive' } }, untraced()),
    ]);

    const stored = await store.readStream(rightsRequestStreamOf('request-1'));
    expect(stored.map((event) => event.type)).toEqual(['RightsRequestReceived', 'RightsRequestCompleted']);
    expect(completed).toMatchObject({ status: 'fulfilled', value: { request: { status: 'completed' } } });
    expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(RightsRequestRuleBroken) });
    expect((refused as PromiseRejectedResult).reason.rule).toBe('request-already-closed');
  });
});

describe('the index of rights requests', () => {
  const receiveRequest = (requestId: string, subjectId: string): RightsRequestCommand => ({ ...receive, requestId, data: { ...receive.data, subjectId: subjectId as SubjectId } });
  const extend = (requestId: string): RightsRequestCommand => ({ type: 'ExtendRightsRequest', requestId, capture, data: { byDays: 10, reason: 'complexity' } });

  async function withSubjectsAndRequests(store: EventStore): Promise<void> {
    const requests = new RightsRequests(store);
    for (const [index, requestId] of ['request-b', 'request-a', 'request-c'].entries()) {
      for (let subject = 0; subject < 100; subject += 1) {
        const subjectId = `subject-${index}-${subject}`;
        await store.append(ledgerStreamOf(subjectId), [{ eventId: randomUUID(), type: 'RelationshipStarted', schemaVersion: 1, data: { subjectId } }], { expectedRevision: 'no-stream' });
      }
      await requests.handle(receiveRequest(requestId, `subject-${index}-0`), untraced());
    }
  }

  // At national scale the log holds hundreds of millions of subject events: reading them all to
  // find a few thousand requests took the first list after a start minutes to hours.
  it('lists every request in the order the log recorded it, without reading the events of subjects', async () => {
    const store = createInMemoryEventStore();
    await withSubjectsAndRequests(store);
    const headBefore = await store.headPosition();
    let logEventsRead = 0;
    const counted = new Proxy(store, {
      get: (target, property) =>
        property === 'readAll'
          ? async (...args: Parameters<EventStore['readAll']>) => {
              const page = await target.readAll(...args);
              logEventsRead += page.filter((event) => event.position <= headBefore).length;
              return page;
            }
          : Reflect.get(target, property, target),
    });

    const { requests } = await new RightsRequests(counted).recordedAfter(START, 10, () => true);

    expect(requests.map(({ request }) => request.status !== 'none' && request.requestId)).toEqual(['request-b', 'request-a', 'request-c']);
    expect(logEventsRead).toBe(0);
  });

  it.each(['before the names are listed', 'after the names are listed'])(
    'neither misses nor applies twice what is recorded while the index is first built, %s',
    async (moment) => {
      const store = createInMemoryEventStore();
      await withSubjectsAndRequests(store);
      const clerk = new RightsRequests(store);
      const recordMeanwhile = async () => {
        await clerk.handle(extend('request-a'), untraced());
        await clerk.handle(receiveRequest('request-0', 'subject-9'), untraced());
      };
      let isFirstListing = true;
      const racing = new Proxy(store, {
        get: (target, property) =>
          property === 'listStreamNames'
            ? async (options: ListStreamNamesOptions) => {
                const wasFirst = isFirstListing;
                isFirstListing = false;
                if (wasFirst && moment === 'before the names are listed') await recordMeanwhile();
                const names = await target.listStreamNames(options);
                if (wasFirst && moment === 'after the names are listed') await recordMeanwhile();
                return names;
              }
            : Reflect.get(target, property, target),
      });

      const { requests } = await new RightsRequests(racing).recordedAfter(START, 10, () => true);

      expect(requests.map(({ request }) => request.status !== 'none' && [request.requestId, request.extendedByDays])).toEqual([
        ['request-b', 0],
        ['request-a', 10],
        ['request-c', 0],
        ['request-0', 0],
      ]);
      const positions = requests.map(({ receiptPosition }) => receiptPosition);
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    },
  );
});
