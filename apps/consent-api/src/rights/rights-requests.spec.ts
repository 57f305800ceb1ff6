import { randomUUID } from 'node:crypto';
import { type Instant, type RightsRequestCommand, rightsRequestStreamOf, type SubjectId } from '@consent-ledger/domain';
import { createInMemoryEventStore } from '@consent-ledger/event-store';
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
