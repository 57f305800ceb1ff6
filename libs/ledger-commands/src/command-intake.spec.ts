import { type Instant, LEDGER_RULES, loadCatalogue, mayProcess } from '@consent-ledger/domain';
import { createInMemoryEventStore } from '@consent-ledger/event-store';
import { InMemoryVault } from '@consent-ledger/personal-data';
import proximus from '../../../catalogues/proximus.json';
import { CommandIntake } from './command-intake';
import { InMemoryIdempotencyRecords } from './idempotency/in-memory-idempotency-records';
import { type HandledCommand, LedgerStreams } from './ledger-streams';
import { ledgerStreamOf } from './subject-streams';
import { CONSENT_PURPOSE, commandJson, type Json } from './testing/command-json';

const catalogue = loadCatalogue(proximus);

function intake(
  store = createInMemoryEventStore(),
  vault = new InMemoryVault(),
  idempotencyRecords = new InMemoryIdempotencyRecords(),
  now = () => new Date().toISOString() as Instant,
) {
  const streams = new LedgerStreams(store, catalogue);
  const commands = new CommandIntake({ catalogue, vault, idempotencyRecords, ledgerStreams: streams, now });
  const submit = (json: Json, idempotencyKey?: string, client = 'shop-app') => {
    const checked = commands.check(json);
    if (checked.errors) throw new Error(JSON.stringify(checked.errors));
    return commands.execute(checked.value, { client, idempotencyKey, requestFingerprint: commands.fingerprintOf(json) });
  };
  return { store, vault, streams, commands, submit };
}

/** Idempotency records whose answers are kept only once the test lets them. */
class SlowToKeep extends InMemoryIdempotencyRecords {
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));

  override async save(record: Parameters<InMemoryIdempotencyRecords['save']>[0]): Promise<void> {
    await this.gate;
    return super.save(record);
  }

  keep(): void {
    this.opened();
  }
}

/** What a promise has come to after a moment: its value, or that it is still waiting. */
const soon = <T>(promise: Promise<T>): Promise<T | 'still waiting'> => Promise.race([promise, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 100))]);

describe('the command intake', () => {
  // The record only shortens a retry's way to its answer: recorded events give the same answer
  // from the log. Waiting for it cost every command a third round trip to the database.
  describe('keeping an answer', () => {
    it('answers a command that recorded events before its answer is kept, and a retry with the key waits for it', async () => {
      const records = new SlowToKeep();
      const { commands, submit } = intake(undefined, undefined, records);
      const json = commandJson.restrictChannel('subject-1');
      const first = await soon(submit(json, 'key-1'));
      expect(first).toMatchObject({ status: 201, replayed: false, body: { events: [{ type: 'ChannelRestricted' }] } });

      const retry = submit(json, 'key-1');
      expect(await soon(retry)).toBe('still waiting');
      records.keep();
      expect(await retry).toEqual({ ...(first as object), replayed: true });
      await commands.whenAnswersKept();
    });

    it('answers a command that recorded nothing only once its answer is kept, as only the record holds it', async () => {
      const records = new SlowToKeep();
      const { submit } = intake(undefined, undefined, records);
      const repeat = submit(commandJson.endRelationship('subject-1'), 'key-1');
      expect(await soon(repeat)).toBe('still waiting');
      records.keep();
      expect(await repeat).toMatchObject({ status: 422 });
    });

    it('tells when every answer given is kept, so storage closes after them', async () => {
      const records = new SlowToKeep();
      const { commands, submit } = intake(undefined, undefined, records);
      await soon(submit(commandJson.restrictChannel('subject-1'), 'key-1'));
      expect(await soon(commands.whenAnswersKept())).toBe('still waiting');
      records.keep();
      await commands.whenAnswersKept();
      expect(await records.claim({ client: 'shop-app', idempotencyKey: 'key-1', requestFingerprint: 'x', recordedAt: new Date().toISOString() as Instant })).toMatchObject({ status: 201 });
    });
  });

  // Found in review: a redelivery was stamped on its own arrival, so coming after the person's next
  // choice it undid it, and coming after its stated instant had passed it was a new choice.
  describe('a request from a channel whose clock runs ahead, delivered again', () => {
    const NOW = Date.parse('2024-05-01T09:00:00.000Z');
    const at = (ms: number) => new Date(NOW + ms).toISOString() as Instant;
    const restrictAhead = commandJson.restrictChannel('subject-1', { channel: 'email', capture: { occurredAt: at(120_000) } });
    const eventsOf = (outcome: { body: unknown }) => (outcome.body as HandledCommand).events;
    const withClock = () => {
      let clock = NOW;
      const records = new InMemoryIdempotencyRecords();
      const running = intake(undefined, undefined, records, () => new Date(clock).toISOString() as Instant);
      return { ...running, records, setClock: (ms: number) => (clock = NOW + ms) };
    };

    it('does not undo the choice the person made after its first delivery', async () => {
      const { streams, submit, setClock } = withClock();
      const restricted = await submit(restrictAhead, 'key-1');
      expect(eventsOf(restricted)).toHaveLength(1);
      setClock(30_000);
      await submit(commandJson.liftChannelRestriction('subject-1', { channel: 'email' }), 'key-2');
      setClock(60_000);
      const again = await submit(restrictAhead, 'key-3');
      expect(eventsOf(again)).toEqual([]);
      expect(streams.streams.cached('subject-1')!.ledger.channelRestrictions.get('email|*')?.on).toBe(false);
    });

    // Found in review: the redelivery was recognised by its exact JSON, so a channel that wrote the
    // same instant another way (an offset instead of Z, or without milliseconds) made a new choice.
    it('is recognised when it writes the same instants another way', async () => {
      const { streams, submit, setClock } = withClock();
      const consentAhead = commandJson.giveConsent('subject-1', { validUntil: '2025-05-01T00:00:00Z', capture: { occurredAt: at(120_000) } });
      await submit(commandJson.startRelationship('subject-1'), 'key-1');
      await submit(restrictAhead, 'key-2');
      await submit(consentAhead, 'key-3');
      setClock(30_000);
      await submit(commandJson.liftChannelRestriction('subject-1', { channel: 'email' }), 'key-4');
      await submit(commandJson.withdrawConsent('subject-1'), 'key-5');
      setClock(60_000);
      const restrictAgain = commandJson.restrictChannel('subject-1', { channel: 'email', capture: { occurredAt: at(120_000).replace('Z', '+00:00') } });
      const consentAgain = commandJson.giveConsent('subject-1', {
        validUntil: '2025-05-01T02:00:00+02:00',
        capture: { occurredAt: at(120_000).replace('.000Z', 'Z') },
      });
      // Both were stamped at one instant, their first arrival, so each has a choice recorded after
      // it at its instant (which might have been a change of mind): each copy is recorded, but
      // neither stands.
      expect(eventsOf(await submit(restrictAgain, 'key-6'))).toEqual([expect.objectContaining({ supersededBy: [expect.anything()] })]);
      expect(eventsOf(await submit(consentAgain, 'key-7'))).toEqual([expect.objectContaining({ supersededBy: [expect.anything()] })]);
      const { ledger } = streams.streams.cached('subject-1')!;
      expect(ledger.channelRestrictions.get('email|*')?.on).toBe(false);
      expect(mayProcess(ledger, catalogue, { purpose: CONSENT_PURPOSE, at: at(90_000) })).toMatchObject({ allowed: false });
    });

    // Found in review: the same consent with its channels in another order, or left to their
    // default, was a new statement, stamped on its own arrival after the withdrawal it undid.
    it('is recognised with its channels in another order or left to their default', async () => {
      const prospecting = 'direct-marketing-prospects-phone-email';
      const consentAhead = (channels?: string[]) =>
        commandJson.giveConsent('subject-1', { purpose: prospecting, ...(channels && { channels }), capture: { occurredAt: at(90_000) } });
      const { streams, submit, setClock } = withClock();
      await submit(consentAhead(['phone', 'email', 'sms', 'post']), 'key-1');
      setClock(30_000);
      await submit(commandJson.withdrawConsent('subject-1', { purpose: prospecting }), 'key-2');
      setClock(60_000);
      for (const [index, channels] of [['post', 'email', 'sms', 'phone'], undefined].entries()) {
        expect(eventsOf(await submit(consentAhead(channels), `key-${3 + index}`))).toEqual([]);
      }
      expect(mayProcess(streams.streams.cached('subject-1')!.ledger, catalogue, { purpose: prospecting, at: at(120_000) })).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
    });

    it('records nothing when nothing changed, also once its stated instant has passed', async () => {
      const { submit, setClock } = withClock();
      await submit(restrictAhead, 'key-1');
      setClock(30_000);
      expect(eventsOf(await submit(restrictAhead, 'key-2'))).toEqual([]);
      setClock(180_000);
      expect(eventsOf(await submit(restrictAhead, 'key-3'))).toEqual([]);
    });

    // First arrivals are forgotten with the idempotency records (ADR 0004, amendment); the log
    // still knows the statement it recorded. (Before, it was recorded a second time, dated at its
    // stated instant.)
    it('records nothing once its first arrival is forgotten, as the log holds the statement', async () => {
      const { store, records, submit, setClock } = withClock();
      await submit(restrictAhead, 'key-1');
      setClock(31 * 86_400_000);
      await records.forgetRecordedBefore(at(86_400_000), 1_000);

      expect(eventsOf(await submit(restrictAhead, 'key-2'))).toEqual([]);
      const [first, ...others] = await store.readStream(ledgerStreamOf('subject-1'));
      expect(first.data).toMatchObject({ capture: { occurredAt: at(0), statedAt: at(120_000) } });
      expect(others).toEqual([]);
    });
  });

  // A channel's retry queue may send a message again under a new key, long after the person's next
  // choice. The log held a copy of the statement for every such delivery, each published again.
  describe('a dated statement already in the log, delivered again under another key', () => {
    const restrictIn = (month: string) => commandJson.restrictChannel('subject-1', { channel: 'email', capture: { occurredAt: `2024-${month}-01T09:00:00Z` } });

    it('records nothing when a later choice stands, whether it undid the statement or repeated it', async () => {
      const { store, submit } = intake();
      await submit(restrictIn('03'), 'key-1');
      await submit(commandJson.liftChannelRestriction('subject-1', { channel: 'email', capture: { occurredAt: '2024-04-01T09:00:00Z' } }), 'key-2');
      await submit(restrictIn('05'), 'key-3');
      const before = await store.readStream(ledgerStreamOf('subject-1'));

      for (const [index, month] of ['03', '05', '03'].entries()) {
        expect(await submit(restrictIn(month), `again-${index}`)).toMatchObject({ status: 200, body: { events: [], position: before.at(-1)!.position.toString() } });
      }
      expect(await store.readStream(ledgerStreamOf('subject-1'))).toHaveLength(before.length);
    });

    // Found in review: a channel that stamps to the minute sent withdraw, give, withdraw within one
    // minute; the last withdrawal was taken for the first one delivered again, and the consent stood.
    it('is recorded when a choice made at the same instant was recorded after it: the person changed their mind within the stamp', async () => {
      const { streams, submit } = intake();
      const tv = 'targeted-tv-advertising-pickx';
      const at = (time: string) => ({ capture: { occurredAt: `2024-05-01T${time}:00+02:00` } });
      await submit(commandJson.startRelationship('subject-1', { capture: { occurredAt: '2024-01-01T00:00:00Z' } }), 'key-0');
      await submit(commandJson.giveConsent('subject-1', { purpose: tv, channels: ['tv-screen'], ...at('20:00') }), 'key-1');
      await submit(commandJson.withdrawConsent('subject-1', { purpose: tv, ...at('20:15') }), 'key-2');
      await submit(commandJson.giveConsent('subject-1', { purpose: tv, channels: ['tv-screen'], ...at('20:15') }), 'key-3');

      expect(await submit(commandJson.withdrawConsent('subject-1', { purpose: tv, ...at('20:15') }), 'key-4')).toMatchObject({ status: 201 });
      expect(mayProcess(streams.streams.cached('subject-1')!.ledger, catalogue, { purpose: tv, channel: 'tv-screen', at: '2024-05-01T20:30:00Z' as Instant })).toMatchObject({
        allowed: false,
        reason: 'consent-withdrawn',
      });
      // Delivered again with nothing recorded at its instant since, it is the same statement.
      expect(await submit(commandJson.withdrawConsent('subject-1', { purpose: tv, ...at('20:15') }), 'key-5')).toMatchObject({ status: 200 });
    });

    it('is recorded when it says anything else: another instant, channel or touchpoint', async () => {
      const { store, submit } = intake();
      await submit(restrictIn('03'), 'key-1');
      await submit(restrictIn('05'), 'key-2');
      await submit(commandJson.restrictChannel('subject-1', { channel: 'email', capture: { occurredAt: '2024-03-01T09:00:01Z' } }), 'key-3');
      await submit(commandJson.restrictChannel('subject-1', { channel: 'sms', capture: { occurredAt: '2024-03-01T09:00:00Z' } }), 'key-4');
      await submit(commandJson.restrictChannel('subject-1', { channel: 'email', capture: { occurredAt: '2024-03-01T09:00:00Z', touchpoint: 'call-center' } }), 'key-5');
      expect(await store.readStream(ledgerStreamOf('subject-1'))).toHaveLength(5);
    });

    it('is a new choice each time when it states no instant: it is dated on arrival', async () => {
      const { store, submit } = intake();
      const restrictNow = commandJson.restrictChannel('subject-1', { channel: 'email' });
      await submit(restrictNow, 'key-1');
      await submit(commandJson.liftChannelRestriction('subject-1', { channel: 'email' }), 'key-2');
      expect(await submit(restrictNow, 'key-3')).toMatchObject({ status: 201 });
      expect(await store.readStream(ledgerStreamOf('subject-1'))).toHaveLength(3);
    });
  });

  describe('a request dated ahead, found again in review', () => {
    const at = (ms: number) => new Date(Date.parse('2024-05-01T10:00:00.000Z') + ms).toISOString() as Instant;
    const withClock = () => {
      let clock = 0;
      return { ...intake(undefined, undefined, undefined, () => at(clock)), setClock: (ms: number) => (clock = ms) };
    };

    // The redelivery arrived when our clock read its stated instant exactly: it looked undated.
    it('is stamped at its first arrival also when delivered again as our clock reads its stated instant', async () => {
      const { store, submit, setClock } = withClock();
      const endAhead = commandJson.endRelationship('subject-1', { capture: { occurredAt: at(120_000) } });
      expect(await submit(endAhead, 'key-1')).toMatchObject({ status: 422 });
      setClock(30_000);
      await submit(commandJson.startRelationship('subject-1'), 'key-2');
      setClock(120_000);
      await submit(endAhead, 'key-3');
      const [, end] = await store.readStream(ledgerStreamOf('subject-1'));
      expect(end.data).toMatchObject({ capture: { occurredAt: at(0), statedAt: at(120_000) } });
    });

    // The same start with its default segment named was another statement, stamped on its own
    // arrival, and reopened the contract the person had ended meanwhile.
    it('is the same statement with a default written out: the segment of a relationship, the basis of an erasure', async () => {
      const { submit, setClock, streams } = withClock();
      const startAhead = (segment?: string) => commandJson.startRelationship('subject-1', { ...(segment && { segment }), capture: { occurredAt: at(180_000) } });
      await submit(startAhead(), 'key-1');
      setClock(30_000);
      await submit(commandJson.endRelationship('subject-1'), 'key-2');
      setClock(60_000);
      expect(await submit(startAhead('residential'), 'key-3')).toMatchObject({ status: 200 });
      expect(streams.streams.cached('subject-1')!.ledger.relationships.get('proximus')).toMatchObject({ active: false });
    });
  });

  // Found in review: the first delivery of a request dated ahead was refused (no relationship yet);
  // delivered again after the contract had started, it was stamped on its own arrival and ended it.
  it('stamps a request dated ahead, delivered again, no later than its first delivery, even one that recorded nothing', async () => {
    let clock = Date.parse('2026-11-29T10:00:00.000Z');
    const at = (ms: number) => new Date(clock + ms).toISOString() as Instant;
    const { store, streams, submit } = intake(undefined, undefined, undefined, () => new Date(clock).toISOString() as Instant);
    const endAhead = commandJson.endRelationship('subject-1', { capture: { occurredAt: at(120_000) } });
    const firstArrival = at(0);

    expect(await submit(endAhead, 'key-1')).toMatchObject({ status: 422, body: { error: 'no-relationship-to-end' } });
    clock += 1_000;
    const started = await submit(commandJson.startRelationship('subject-1'), 'key-2');
    clock += 10_000;
    const redelivered = await submit(endAhead, 'key-3');

    // Stamped at its first delivery, it is dated before the contract began and ends no contract
    // (ADR 0001: it is kept, for a start dated before it that may still arrive); stamped on
    // arrival it would end the contract.
    expect(redelivered).toMatchObject({ status: 201, body: { events: [{ type: 'RelationshipEnded', revision: 1 }] } });
    expect(started.body).toMatchObject({ events: [{ revision: 0 }] });
    const [start, end] = await store.readStream(ledgerStreamOf('subject-1'));
    expect(end.data).toMatchObject({ capture: { occurredAt: firstArrival } });
    expect(start.data).not.toMatchObject({ capture: { occurredAt: firstArrival } });
    expect(streams.streams.cached('subject-1')!.ledger.relationships.get('proximus')).toMatchObject({ kind: 'customer', active: true });
  });

  it('answers a retry with the first answer and records nothing new', async () => {
    const { store, submit } = intake();
    const first = await submit(commandJson.startRelationship('subject-1'), 'key-1');
    const retry = await submit(commandJson.startRelationship('subject-1'), 'key-1');

    expect(first).toMatchObject({ status: 201, replayed: false });
    expect(retry).toEqual({ ...first, replayed: true });
    expect(await store.headPosition()).toBe(1n);
  });

  // Found in review: once the key's record had expired, a request reusing the key with another body
  // was refused by the log but left its claim behind, and the original's retry then got 409 too.
  it('answers the retry of a command whose record expired after another request tried its key', async () => {
    const records = new InMemoryIdempotencyRecords();
    const { store, submit } = intake(undefined, undefined, records);
    const first = await submit(commandJson.restrictChannel('subject-1'), 'key-1');
    await records.forgetRecordedBefore(new Date(Date.now() + 60_000).toISOString(), 1_000);

    expect(await submit(commandJson.restrictChannel('subject-1', { channel: 'email' }), 'key-1')).toMatchObject({ status: 409 });
    expect(await submit(commandJson.restrictChannel('subject-1'), 'key-1')).toEqual({ ...first, replayed: true });
    expect(await store.headPosition()).toBe(1n);
  });

  it('answers a retry from the log as a replay when the answer was never kept (a crash before it was saved)', async () => {
    const { store, vault, submit } = intake();
    const first = await submit(commandJson.giveConsent('subject-1'), 'key-1');
    const withoutRecords = intake(store, vault);

    expect(await withoutRecords.submit(commandJson.giveConsent('subject-1'), 'key-1')).toEqual({ ...first, replayed: true });
    expect(await store.headPosition()).toBe(1n);
  });

  // Two processes (each with its own per-key queue) given one key with two bodies at the same
  // moment both decided and recorded, and the retry of the accepted one then got 409.
  it('records one of two requests sent with one key to two processes at once, and answers its retry', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    const records = new InMemoryIdempotencyRecords();
    const [one, other] = [intake(store, vault, records), intake(store, vault, records)];
    const bodies = [commandJson.restrictChannel('subject-1'), commandJson.restrictChannel('subject-2')];

    const answers = await Promise.all([one.submit(bodies[0], 'key-1'), other.submit(bodies[1], 'key-1')]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(await store.headPosition()).toBe(1n);
    const accepted = answers.findIndex((answer) => answer.status === 201);
    expect(await one.submit(bodies[accepted], 'key-1')).toEqual({ ...answers[accepted], replayed: true });
  });

  // Found in review (fifteenth session, three API processes under load): a copy of a request
  // reaching a second process while the first was deciding it was decided again there, on the
  // ledger as it stood a moment earlier. One copy was answered 422 (or 200, nothing recorded) and
  // kept as the key's answer, the other recorded the command (201): every retry was then told
  // nothing was recorded while the log held the command's events under that key.
  it('gives a copy sent to another process while the first decides it the first answer, not a decision of its own', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    const records = new InMemoryIdempotencyRecords();
    let letFirstRead!: () => void;
    const firstReadWaits = new Promise<void>((resolve) => (letFirstRead = resolve));
    const slowToRead = Object.create(store, {
      readStream: { value: async (...args: Parameters<typeof store.readStream>) => (await firstReadWaits, store.readStream(...args)) },
    });
    const [first, second] = [intake(slowToRead, vault, records), intake(store, vault, records)];
    const endContract = commandJson.endRelationship('subject-1');

    const firstAnswer = first.submit(endContract, 'key-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    let heartbeats = 0;
    const checked = second.commands.check(endContract);
    if (checked.errors) throw new Error(JSON.stringify(checked.errors));
    const submission = { client: 'shop-app', idempotencyKey: 'key-1', requestFingerprint: second.commands.fingerprintOf(endContract) };
    const secondAnswer = second.commands.execute(checked.value, submission, { whileWaiting: async () => void (heartbeats += 1) });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The contract starts while the first copy is still on its way to the ledger.
    await second.submit(commandJson.startRelationship('subject-1'), 'key-2');
    letFirstRead();

    const answers = await Promise.all([firstAnswer, secondAnswer]);
    expect(answers.map(({ status, body }) => ({ status, body }))).toEqual([answers[0], answers[0]].map(({ status, body }) => ({ status, body })));
    // A Kafka consumer waiting so keeps its partitions.
    expect(heartbeats).toBeGreaterThan(0);
    const retry = await second.submit(endContract, 'key-1');
    expect({ status: retry.status, body: retry.body }).toEqual({ status: answers[0].status, body: answers[0].body });
    expect((await store.readAll()).map((event) => event.type)).toEqual(answers[0].status === 201 ? ['RelationshipStarted', 'RelationshipEnded'] : ['RelationshipStarted']);
  });

  // Found in review: a request answered 503 by one process left its claim pending, and its retry,
  // sent by the load balancer to another process, waited 15 s for a copy nobody was deciding.
  it('decides at once a retry sent to another process after the first process answered it with an error', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    const records = new InMemoryIdempotencyRecords();
    const unavailableOnce = Object.create(store, {
      append: {
        value: async () => {
          throw new Error('the event store is unavailable');
        },
      },
    });
    const [first, second] = [intake(unavailableOnce, vault, records), intake(store, vault, records)];
    const json = commandJson.restrictChannel('subject-1');

    await expect(first.submit(json, 'key-1')).rejects.toThrow('unavailable');

    expect(await soon(second.submit(json, 'key-1'))).toMatchObject({ status: 201, body: { events: [{ type: 'ChannelRestricted' }] } });
  });

  // Found in review: a copy whose first process had recorded the command but not yet kept its
  // answer, or died before keeping it, waited out the 15 s for a claim nobody would answer.
  it('answers a copy from the log at once when another process recorded it but has not kept its answer', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    await intake(store, vault).submit(commandJson.startRelationship('subject-1'), 'key-0');
    const records = new SlowToKeep();
    const [first, second] = [intake(store, vault, records), intake(store, vault, records)];
    // The second process read the subject before the first recorded the command: its cache is behind.
    await second.streams.prefetch('subject-1');
    const json = commandJson.restrictChannel('subject-1');

    const recorded = await first.submit(json, 'key-1');
    expect(recorded).toMatchObject({ status: 201, body: { events: [{ type: 'ChannelRestricted' }] } });

    expect(await soon(second.submit(json, 'key-1'))).toEqual({ ...recorded, replayed: true });
    expect((await store.readAll()).map((event) => event.type)).toEqual(['RelationshipStarted', 'ChannelRestricted']);
    records.keep();
    await first.commands.whenAnswersKept();
  });

  it('decides at once a copy already waiting in another process when the first copy fails, and still refuses another request under the key', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    const records = new InMemoryIdempotencyRecords();
    let failAppend!: () => void;
    const appendFails = new Promise<void>((resolve) => (failAppend = resolve));
    const unavailable = Object.create(store, {
      append: {
        value: async () => {
          await appendFails;
          throw new Error('the event store is unavailable');
        },
      },
    });
    const [first, second] = [intake(unavailable, vault, records), intake(store, vault, records)];
    const json = commandJson.restrictChannel('subject-1');

    const firstAnswer = first.submit(json, 'key-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const copy = second.submit(json, 'key-1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    failAppend();
    await expect(firstAnswer).rejects.toThrow('unavailable');

    expect(await soon(copy)).toMatchObject({ status: 201, body: { events: [{ type: 'ChannelRestricted' }] } });
    expect(await second.submit(commandJson.restrictChannel('subject-2'), 'key-1')).toMatchObject({ status: 409 });
  });

  // Found in review: the subject's stream is read while the key is claimed; a read that failed
  // left the claim pending, and the client's retry in the same process waited 15 s for it.
  it('decides at once the retry of a request whose subject could not be read', async () => {
    const store = createInMemoryEventStore();
    let reads = 0;
    const unreadableOnce = Object.create(store, {
      readStream: {
        value: async (...args: Parameters<typeof store.readStream>) => {
          reads += 1;
          if (reads === 1) throw new Error('the event store is unavailable');
          return store.readStream(...args);
        },
      },
    });
    const { submit } = intake(unreadableOnce);
    const json = commandJson.restrictChannel('subject-1');

    await expect(submit(json, 'key-1')).rejects.toThrow('unavailable');

    expect(await soon(submit(json, 'key-1'))).toMatchObject({ status: 201, body: { events: [{ type: 'ChannelRestricted' }] } });
  });

  it('recognises the same request whatever the order of its fields', async () => {
    const { submit } = intake();
    const json = commandJson.restrictChannel('subject-1');
    await submit(json, 'key-1');
    const reordered = Object.fromEntries(Object.entries(json).reverse());
    expect(await submit(reordered, 'key-1')).toMatchObject({ status: 201, replayed: true });
  });

  it('refuses the same key with another request, even for another subject', async () => {
    const { store, submit } = intake();
    await submit(commandJson.restrictChannel('subject-1'), 'key-1');
    expect(await submit(commandJson.restrictChannel('subject-2'), 'key-1')).toMatchObject({ status: 409, body: { error: 'idempotency-key-reused' } });
    expect(await store.headPosition()).toBe(1n);
  });

  it('lets two clients use the same key independently', async () => {
    const { submit } = intake();
    await submit(commandJson.restrictChannel('subject-1'), 'key-1', 'shop-app');
    expect(await submit(commandJson.restrictChannel('subject-2'), 'key-1', 'tv-menu')).toMatchObject({ status: 201 });
  });

  it('appends once when copies of one request arrive together', async () => {
    const { store, submit } = intake();
    const answers = await Promise.all(Array.from({ length: 5 }, () => submit(commandJson.giveConsent('subject-1'), 'key-1')));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
    expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1);
    expect(await store.headPosition()).toBe(1n);
  });

  it('keeps a refusal as the answer to its key', async () => {
    const { submit } = intake();
    const refused = await submit(commandJson.endRelationship('subject-1'), 'key-1');
    await submit(commandJson.startRelationship('subject-1'), 'key-2');

    expect(refused).toMatchObject({ status: 422, body: { error: 'no-relationship-to-end' } });
    expect(await submit(commandJson.endRelationship('subject-1'), 'key-1')).toEqual({ ...refused, replayed: true });
  });

  it('answers 200 with no events when the same choice already stands from the same instant', async () => {
    const { submit } = intake();
    const stamped = { capture: { occurredAt: '2024-04-30T09:00:00Z' } };
    await submit(commandJson.restrictChannel('subject-1', stamped), 'key-1');
    expect(await submit(commandJson.restrictChannel('subject-1', stamped), 'key-2')).toMatchObject({ status: 200, body: { events: [] } });
  });

  it('treats requests without a key as new commands each time', async () => {
    const { store, submit } = intake();
    await submit(commandJson.giveConsent('subject-1', { contact: { name: 'Jan' } }));
    await submit(commandJson.giveConsent('subject-1', { contact: { name: 'Jan' } }));
    expect(await store.headPosition()).toBe(2n);
  });

  it('destroys the subject key once the erasure is in the log', async () => {
    const { store, vault, submit } = intake();
    await submit(commandJson.giveConsent('subject-1', { capture: { noticeVersion: '2024-02-27', evidenceRef: 'call-77' } }), 'key-1');
    expect(await vault.hasKey('subject-1')).toBe(true);

    expect(await submit(commandJson.eraseSubject('subject-1'), 'key-2')).toMatchObject({ status: 201, body: { events: [{ type: 'SubjectErased' }] } });
    expect(await vault.hasKey('subject-1')).toBe(false);
    expect((await store.readAll()).map((event) => event.type)).toEqual(['ConsentGiven', 'SubjectErased']);
  });

  it('refuses personal data for an erased subject as the domain refuses the command, and makes the subject no key', async () => {
    const { store, vault, submit } = intake();
    await submit(commandJson.startRelationship('subject-1'), 'key-0');
    await submit(commandJson.eraseSubject('subject-1'), 'key-1');

    const refused = await submit(commandJson.giveConsent('subject-1', { contact: { email: 'jan@example.be' } }), 'key-2');
    expect(refused).toEqual({ status: 422, body: { error: 'subject-erased', message: LEDGER_RULES['subject-erased'] }, replayed: false });
    expect(await vault.hasKey('subject-1')).toBe(false);
    expect((await store.readAll()).map((event) => event.type)).toEqual(['RelationshipStarted', 'SubjectErased']);
  });

  // Found in review: sealing failed before the log was asked, so the retry got 422 and kept it.
  it('answers the retry of a command recorded before the erasure from the log, once its record expired', async () => {
    const records = new InMemoryIdempotencyRecords();
    const { submit } = intake(undefined, undefined, records);
    const consent = commandJson.giveConsent('subject-1', { contact: { email: 'jan@example.be' }, capture: { evidenceRef: 'call-77' } });
    const first = await submit(consent, 'key-1');
    await submit(commandJson.eraseSubject('subject-1'), 'key-2');
    await records.forgetRecordedBefore(new Date(Date.now() + 60_000).toISOString(), 1_000);

    expect(await submit(consent, 'key-1')).toEqual({ ...first, replayed: true });
    expect(await submit(consent, 'key-1')).toEqual({ ...first, replayed: true });
  });

  it('tells a channel ending an erased subject\'s contract to leave out the evidence reference', async () => {
    const { store, submit } = intake();
    await submit(commandJson.startRelationship('subject-1'), 'key-1');
    await submit(commandJson.eraseSubject('subject-1'), 'key-2');

    const refused = await submit(commandJson.endRelationship('subject-1', { capture: { evidenceRef: 'call-78' } }), 'key-3');
    expect(refused).toMatchObject({ status: 422, body: { error: 'subject-erased', message: expect.stringContaining('carries no evidence reference') } });
    expect(await submit(commandJson.endRelationship('subject-1'), 'key-4')).toMatchObject({ status: 201 });
    expect((await store.readAll()).map((event) => event.type)).toEqual(['RelationshipStarted', 'SubjectErased', 'RelationshipEnded']);
  });

  // Found in review: a vault that did not yet remember destroyed keys when the subject was erased
  // made the subject a new key for every refused command that brought personal data.
  it('makes no key for a subject erased before its vault remembered destroyed keys', async () => {
    const { store, submit } = intake();
    await submit(commandJson.startRelationship('subject-1'), 'key-0');
    await submit(commandJson.eraseSubject('subject-1'), 'key-1');
    const vaultWithoutMemory = new InMemoryVault();
    const upgraded = intake(store, vaultWithoutMemory);

    expect(await upgraded.submit(commandJson.giveConsent('subject-1', { contact: { email: 'jan@example.be' } }), 'key-2')).toMatchObject({ status: 422, body: { error: 'subject-erased' } });
    expect(await upgraded.submit(commandJson.restrictChannel('subject-1', { capture: { evidenceRef: 'call-79' } }), 'key-3')).toMatchObject({ status: 422 });
    expect(await vaultWithoutMemory.hasKey('subject-1')).toBe(false);
    expect(await upgraded.submit(commandJson.eraseSubject('subject-1', { capture: { evidenceRef: 'dpo-ticket-2' } }), 'key-4')).toMatchObject({ status: 200 });
    expect(await store.headPosition()).toBe(2n);
  });

  it('answers a repeated erasure that brings an evidence reference as a repeat', async () => {
    const { store, submit } = intake();
    await submit(commandJson.startRelationship('subject-1'), 'key-0');
    await submit(commandJson.eraseSubject('subject-1', { capture: { evidenceRef: 'dpo-ticket-1' } }), 'key-1');

    expect(await submit(commandJson.eraseSubject('subject-1', { capture: { evidenceRef: 'dpo-ticket-2' } }), 'key-2')).toMatchObject({ status: 200, body: { events: [] } });
    expect(await store.headPosition()).toBe(2n);
  });

  // Found in review: a mistyped id erased from a DPO's tool was blocked for years, so the customer
  // later given that id could record no choice.
  it('refuses to erase a subject the ledger never heard of, and leaves the id free for a customer given it later', async () => {
    const { store, vault, submit } = intake();

    expect(await submit(commandJson.eraseSubject('subject-1', { capture: { evidenceRef: 'dpo-ticket-1' } }), 'key-1')).toEqual({
      status: 422,
      body: { error: 'subject-unknown', message: LEDGER_RULES['subject-unknown'] },
      replayed: false,
    });
    expect(await store.headPosition()).toBe(0n);
    expect(await submit(commandJson.giveConsent('subject-1', { contact: { email: 'jan@example.be' } }), 'key-2')).toMatchObject({ status: 201 });
    expect(await vault.hasKey('subject-1')).toBe(true);
  });

  it('answers what it recorded when the answer cannot be kept, and answers a retry of it from the log', async () => {
    const store = createInMemoryEventStore();
    const vault = new InMemoryVault();
    const records = new InMemoryIdempotencyRecords();
    const warnings: string[] = [];
    const failing = Object.assign(Object.create(records) as InMemoryIdempotencyRecords, {
      save: async () => {
        throw new Error('the idempotency records are unavailable');
      },
    });
    const commands = new CommandIntake({
      catalogue,
      vault,
      idempotencyRecords: failing,
      ledgerStreams: new LedgerStreams(store, catalogue),
      now: () => new Date().toISOString() as Instant,
      log: { warn: (message) => warnings.push(message) },
    });
    const json = commandJson.restrictChannel('subject-1');
    const checked = commands.check(json);
    if (checked.errors) throw new Error(JSON.stringify(checked.errors));
    const submit = () => commands.execute(checked.value, { client: 'shop-app', idempotencyKey: 'key-1', requestFingerprint: commands.fingerprintOf(json) });

    const first = await submit();
    expect(first).toMatchObject({ status: 201, body: { events: [{ type: 'ChannelRestricted' }] } });
    expect(warnings).toEqual([expect.stringContaining('key-1 was not kept')]);
    // At once: the claim left pending is this process's own, no copy being decided elsewhere.
    expect(await soon(submit())).toEqual({ ...first, replayed: true });
    expect(await store.headPosition()).toBe(1n);
  });
});
