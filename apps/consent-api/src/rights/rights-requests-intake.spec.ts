import type { CompleteRightsRequest, Instant, ReceiveRightsRequest, SubjectId } from '@consent-ledger/domain';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { InMemoryIdempotencyRecords } from '@consent-ledger/ledger-commands';
import { InMemoryVault } from '@consent-ledger/personal-data';
import { RightsRequestIntake } from './rights-requests-intake';
import { RightsRequests } from './rights-requests';

const now = () => new Date().toISOString() as Instant;
const capture = () => ({ actor: { kind: 'agent' as const, id: 'dpo-clerk-4' }, recordedAt: now() });
const receive = (requestId: string): ReceiveRightsRequest => ({
  type: 'ReceiveRightsRequest',
  requestId,
  capture: capture(),
  data: { subjectId: 'subject-1' as SubjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: now() },
});
const complete = (requestId: string): CompleteRightsRequest => ({ type: 'CompleteRightsRequest', requestId, capture: capture(), data: {} });

describe('rights-request calls sent to two API processes', () => {
  // Found in review (fifteenth session): a copy of a call reaching a second process while the
  // first was deciding it was decided again there, on the log as it stood a moment earlier, and
  // its refusal was kept as the key's answer beside the events the first copy recorded.
  it('gives a copy sent to another process while the first decides it the first answer, not a decision of its own', async () => {
    const store = createInMemoryEventStore();
    const records = new InMemoryIdempotencyRecords();
    const vault = new InMemoryVault();
    let letFirstRead!: () => void;
    const firstReadWaits = new Promise<void>((resolve) => (letFirstRead = resolve));
    const slowToRead: EventStore = Object.create(store, {
      readStream: { value: async (...args: Parameters<EventStore['readStream']>) => (await firstReadWaits, store.readStream(...args)) },
    });
    const process = (log: EventStore) => new RightsRequestIntake({ requests: new RightsRequests(log), idempotencyRecords: records, vault, now });
    const [first, second] = [process(slowToRead), process(store)];
    const call = complete('ticket-1');
    const submission = { client: 'dpo-office', idempotencyKey: 'key-1', requestFingerprint: first.fingerprintOf(call) };

    const firstAnswer = first.execute(call, submission);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const secondAnswer = second.execute(call, submission);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The request is entered while the first copy is still on its way to the log.
    await second.execute(receive('ticket-1'), { client: 'dpo-office', idempotencyKey: 'key-2', requestFingerprint: 'receive-ticket-1' });
    letFirstRead();

    const [one, other] = await Promise.all([firstAnswer, secondAnswer]);
    expect({ status: other.status, body: other.body }).toEqual({ status: one.status, body: one.body });
    const retry = await second.execute(call, submission);
    expect({ status: retry.status, body: retry.body }).toEqual({ status: one.status, body: one.body });
    expect((await store.readAll()).map((event) => event.type)).toEqual(one.status === 200 ? ['RightsRequestReceived', 'RightsRequestCompleted'] : ['RightsRequestReceived']);
  });

  // Found in review: a call answered 503 by one process left its claim pending, and its retry,
  // sent by the load balancer to another process, waited 15 s for a copy nobody was deciding.
  it('decides at once a retry sent to another process after the first process answered it with an error', async () => {
    const store = createInMemoryEventStore();
    const records = new InMemoryIdempotencyRecords();
    const vault = new InMemoryVault();
    const unavailable: EventStore = Object.create(store, {
      append: {
        value: async () => {
          throw new Error('the event store is unavailable');
        },
      },
    });
    const process = (log: EventStore) => new RightsRequestIntake({ requests: new RightsRequests(log), idempotencyRecords: records, vault, now });
    const [first, second] = [process(unavailable), process(store)];
    const call = receive('ticket-1');
    const submission = { client: 'dpo-office', idempotencyKey: 'key-1', requestFingerprint: first.fingerprintOf(call) };

    await expect(first.execute(call, submission)).rejects.toThrow('unavailable');

    const retry = await Promise.race([second.execute(call, submission), new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 500))]);
    expect(retry).toMatchObject({ status: 201, body: { requestId: 'ticket-1' } });
  });
});
