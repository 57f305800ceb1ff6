import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Instant,
  PROOF_RETENTION_RUN_SCHEMA_VERSION,
  PROOF_RETENTION_RUNS_STREAM,
  type ProofRetentionRunCompleted,
  type ReceiveRightsRequest,
  removalsOf,
  type SubjectId,
} from '@consent-ledger/domain';
import { createEventStore, type EventStore } from '@consent-ledger/event-store';
import { createPersonalDataVault, type PersonalDataVault } from '@consent-ledger/personal-data';
import { ProofRetentionJob } from '../../apps/consent-api/src/rights/proof-retention.job';
import { RightsRequests } from '../../apps/consent-api/src/rights/rights-requests';
import { recordRemovalsOf } from '../../apps/consent-api/src/subject-export/subject-record';
import { createTestSchema, describeWithPostgres, withClient } from '../support/services';
import { Client } from 'pg';
import { catalogue, LedgerWriter, ManualClock } from './support/ledger-writer';

interface Storage {
  readonly store: EventStore;
  readonly vault: PersonalDataVault;
  dispose(): Promise<void>;
}

const TV_ADS = 'targeted-tv-advertising-pickx';
const NOW = '2025-01-01T00:00:00.000Z' as Instant;

/** A clerk's call without an idempotency key, as the API traces one. */
const untraced = () => ({ client: 'dpo-office', idempotencyKey: randomUUID(), requestFingerprint: 'untraced' });
const accessRequest = (subjectId: string): ReceiveRightsRequest => ({
  type: 'ReceiveRightsRequest',
  requestId: `access-${subjectId}`,
  capture: { actor: { kind: 'agent', id: 'dpo-clerk-4' }, recordedAt: NOW },
  data: { subjectId: subjectId as SubjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: '2024-12-20T09:00:00.000Z' as Instant },
});

function proofRetentionSuite(open: () => Promise<Storage>) {
  let storage: Storage;
  let job: ProofRetentionJob;
  let rightsRequests: RightsRequests;
  const [ended, recent, customer] = ['retention-ended', 'retention-recent', 'retention-customer'];

  beforeEach(async () => {
    storage = await open();
    const clock = new ManualClock('2015-03-01T10:00:00Z');
    const writer = new LedgerWriter(storage.store, storage.vault, clock);
    const consent = (subjectId: string) =>
      writer.record({
        type: 'GiveConsent',
        subjectId,
        purpose: TV_ADS,
        capture: { touchpoint: 'call-center', actor: { kind: 'agent', id: 'cc-3' }, noticeVersion: '2024-02-27', evidenceRef: `recording-${subjectId}-0042` },
      });
    await consent(ended);
    await consent(recent);
    await consent(customer);
    await writer.record({ type: 'StartRelationship', subjectId: customer, relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 's' } } });
    clock.set('2018-06-01T10:00:00Z');
    await writer.record({ type: 'WithdrawConsent', subjectId: ended, purpose: TV_ADS, capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' } } });
    await writer.record({ type: 'WithdrawConsent', subjectId: customer, purpose: TV_ADS, capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' } } });
    clock.set('2022-01-01T10:00:00Z');
    await writer.record({ type: 'WithdrawConsent', subjectId: recent, purpose: TV_ADS, capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' } } });
    rightsRequests = new RightsRequests(storage.store);
    job = new ProofRetentionJob({ ...storage, catalogue, clock: { now: () => NOW }, rightsRequests });
  });
  afterEach(() => storage.dispose());

  it('removes the record of a subject whose consent ended more than five years ago, and destroys its key', async () => {
    const run = await job.run();
    expect(run.data.removed).toEqual([{ subjectId: ended, removableFrom: '2023-06-01T10:00:00.000Z', eventsRemoved: 2 }]);
    expect(await storage.store.readStream(`consent-ledger-${ended}`)).toEqual([]);
    expect(await storage.vault.hasKey(ended)).toBe(false);
  });

  it('keeps a subject who makes a choice while the run decides on it, with that choice', async () => {
    // The choice arrives between the run's judgement and the removal: while it destroys keys.
    const writer = new LedgerWriter(storage.store, storage.vault, new ManualClock(NOW));
    const vault = Object.create(storage.vault) as PersonalDataVault;
    vault.forgetSubject = async (subjectId) => {
      if (subjectId === ended) {
        await writer.record({ type: 'StartRelationship', subjectId: ended, relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 's' } } });
      }
      return storage.vault.forgetSubject(subjectId);
    };
    const run = await new ProofRetentionJob({ ...storage, vault, catalogue, clock: { now: () => NOW }, rightsRequests }).run();

    expect(run.data.removed).toEqual([]);
    expect(run.data.failures).toEqual([{ subjectId: ended, reason: expect.stringMatching(/^kept: a choice was recorded while this run decided on it/) }]);
    expect((await storage.store.readStream(`consent-ledger-${ended}`)).map((event) => event.type)).toEqual(['ConsentGiven', 'ConsentWithdrawn', 'RelationshipStarted']);
  });

  it('keeps the record and the key of a subject whose rights request is still open, and removes them once it is answered', async () => {
    await rightsRequests.handle(accessRequest(ended), untraced());
    expect((await job.run()).data.removed).toEqual([]);
    expect(await storage.store.readStream(`consent-ledger-${ended}`)).toHaveLength(2);
    expect(await storage.vault.hasKey(ended)).toBe(true);

    await rightsRequests.handle({ type: 'CompleteRightsRequest', requestId: `access-${ended}`, capture: { actor: { kind: 'agent', id: 'dpo-clerk-4' }, recordedAt: NOW }, data: {} }, untraced());
    expect((await job.run()).data.removed).toEqual([expect.objectContaining({ subjectId: ended })]);
  });

  it('keeps a subject whose rights request arrives while the run judges the others', async () => {
    let looks = 0;
    const arriving = {
      all: async () => {
        const all = await rightsRequests.all();
        if ((looks += 1) === 1) await rightsRequests.handle(accessRequest(ended), untraced());
        return all;
      },
    };
    const run = await new ProofRetentionJob({ ...storage, catalogue, clock: { now: () => NOW }, rightsRequests: arriving }).run();
    expect(run.data).toMatchObject({ removed: [], failures: [] });
    expect(await storage.vault.hasKey(ended)).toBe(true);
  });

  it('keeps a subject still within retention, and a customer', async () => {
    await job.run();
    expect(await storage.store.readStream(`consent-ledger-${recent}`)).toHaveLength(2);
    expect(await storage.store.readStream(`consent-ledger-${customer}`)).toHaveLength(3);
    expect(await storage.vault.hasKey(recent)).toBe(true);
  });

  it('records its run, with the pseudonymous ids it removed', async () => {
    const run = await job.run();
    const [recorded] = await storage.store.readStream(PROOF_RETENTION_RUNS_STREAM);
    expect(recorded).toMatchObject({ type: 'ProofRetentionRunCompleted', eventId: run.data.runId });
    expect(recorded.data).toEqual({ ...run.data });
    expect(run.data).toMatchObject({ startedAt: NOW, finishedAt: NOW, dryRun: false, subjectsChecked: 3, failures: [], catalogueVersion: catalogue.definition.catalogueVersion });
  });

  // At national scale the log holds hundreds of millions of events: reading it all to find the
  // subjects took a run's start minutes to hours, and every API process kept every subject's id.
  it('finds the subjects to judge without reading the log', async () => {
    let logEventsRead = 0;
    const counted = new Proxy(storage.store, {
      get: (target, property) =>
        property === 'readAll'
          ? async (...args: Parameters<EventStore['readAll']>) => {
              const page = await target.readAll(...args);
              logEventsRead += page.length;
              return page;
            }
          : Reflect.get(target, property, target),
    });
    const notReadingTheLog = new ProofRetentionJob({ ...storage, store: counted, catalogue, clock: { now: () => NOW }, rightsRequests });

    const run = await notReadingTheLog.run();

    expect(run.data).toMatchObject({ subjectsChecked: 3, removed: [expect.objectContaining({ subjectId: ended })], failures: [] });
    expect(logEventsRead).toBe(0);
  });

  it('judges every subject of a store that holds more than a page of them, each once', async () => {
    const clock = new ManualClock('2015-03-01T10:00:00Z');
    const writer = new LedgerWriter(storage.store, storage.vault, clock);
    const many = Array.from({ length: 1001 }, (_, index) => `retention-many-${index}`);
    for (let start = 0; start < many.length; start += 50) {
      await Promise.all(
        many.slice(start, start + 50).map((subjectId) =>
          writer.record({ type: 'StartRelationship', subjectId, relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 's' } } }),
        ),
      );
    }

    const run = await job.run({ dryRun: true });

    expect(run.data).toMatchObject({ subjectsChecked: many.length + 3, removed: [expect.objectContaining({ subjectId: ended })], failures: [] });
  }, 60_000);

  it('leaves a log that verify still finds intact: the removal is a sanctioned one', async () => {
    await job.run();
    // The two subjects kept, the run's record, and its decision on what to remove.
    expect(await storage.store.verify()).toMatchObject({ intact: true, streamsChecked: 4 });
  });

  it('finds nothing more to remove on its next run', async () => {
    await job.run();
    expect((await job.run()).data).toMatchObject({ removed: [], subjectsChecked: 2 });
  });

  // Found in review: a real run asked for during a dry run was answered with the dry run, and removed nothing.
  it('runs a real run asked for during a dry run after it, as a run of its own that removes what is due', async () => {
    const dryRun = job.run({ dryRun: true });
    const realRun = job.run();
    expect((await dryRun).data).toMatchObject({ dryRun: true, removed: [expect.objectContaining({ subjectId: ended })] });
    expect((await realRun).data).toMatchObject({ dryRun: false, removed: [expect.objectContaining({ subjectId: ended })] });
    expect(await storage.store.readStream(`consent-ledger-${ended}`)).toEqual([]);
    expect((await storage.store.readStream(PROOF_RETENTION_RUNS_STREAM)).map((run) => run.data.dryRun)).toEqual([true, false]);
  });

  it('runs a dry run asked for during a real run after it, reporting on the log the real run left', async () => {
    const realRun = job.run();
    const dryRun = job.run({ dryRun: true });
    expect((await realRun).data).toMatchObject({ dryRun: false, removed: [expect.objectContaining({ subjectId: ended })] });
    expect((await dryRun).data).toMatchObject({ dryRun: true, removed: [], subjectsChecked: 2 });
  });

  it('answers a run asked for while one of the same kind is under way with that run', async () => {
    const [first, second] = await Promise.all([job.run(), job.run()]);
    expect(second.data.runId).toBe(first.data.runId);
    expect(await storage.store.readStream(PROOF_RETENTION_RUNS_STREAM)).toHaveLength(1);
  });

  /** The subject's removals as the export and history reported them until 2026-11-29: from every run recorded. */
  const removalsAsTheRunsTell = async (subjectId: string) =>
    removalsOf((await storage.store.readStream(PROOF_RETENTION_RUNS_STREAM)).map((stored) => stored as unknown as ProofRetentionRunCompleted), subjectId);
  /** The store, counting the reads of the runs stream that the export and history make through it. */
  const countingReadsOfRuns = () => {
    const store = Object.create(storage.store) as EventStore & { readsOfRuns: number };
    store.readsOfRuns = 0;
    store.readStream = (streamName, options) => {
      if (streamName === PROOF_RETENTION_RUNS_STREAM) store.readsOfRuns += 1;
      return storage.store.readStream(streamName, options);
    };
    return store;
  };

  it("tells the subject's export and history of a removal as its run records it, without reading the runs", async () => {
    const run = await job.run();
    const store = countingReadsOfRuns();

    const removals = await recordRemovalsOf(store, ended);

    expect(removals).toEqual([{ runId: run.data.runId, removedAt: NOW, removableFrom: '2023-06-01T10:00:00.000Z', eventsRemoved: 2 }]);
    expect(removals).toEqual(await removalsAsTheRunsTell(ended));
    expect(await recordRemovalsOf(store, recent)).toEqual([]);
    expect(store.readsOfRuns).toBe(0);
  });

  it('tells of a removal made before the job kept its details with it as its run recorded it, beside a later removal', async () => {
    // What the job did until 2026-11-29: the removal recorded without details, the subject only in the run.
    const earlierRunId = randomUUID();
    const earlierRun: ProofRetentionRunCompleted['data'] = {
      runId: earlierRunId,
      startedAt: '2024-01-01T00:00:00.000Z' as Instant,
      finishedAt: '2024-01-01T00:00:01.000Z' as Instant,
      catalogueVersion: catalogue.definition.catalogueVersion,
      dryRun: false,
      subjectsChecked: 3,
      removed: [{ subjectId: ended, removableFrom: '2023-06-01T10:00:00.000Z' as Instant, eventsRemoved: 2 }],
      failures: [],
    };
    await storage.store.removeStream(`consent-ledger-${ended}`, { reason: 'proof retention ended on 2023-06-01T10:00:00.000Z', removedAt: earlierRun.startedAt, expectedRevision: 1 });
    await storage.store.append(
      PROOF_RETENTION_RUNS_STREAM,
      [{ eventId: earlierRunId, type: 'ProofRetentionRunCompleted', schemaVersion: PROOF_RETENTION_RUN_SCHEMA_VERSION, data: earlierRun }],
      { expectedRevision: 'any' },
    );
    // The subject came back in 2015's paperwork, keyed in late, and is due again.
    const writer = new LedgerWriter(storage.store, storage.vault, new ManualClock('2019-01-01T10:00:00Z'));
    await writer.record({ type: 'GiveConsent', subjectId: ended, purpose: TV_ADS, capture: { touchpoint: 'call-center', actor: { kind: 'agent', id: 'cc-3' }, occurredAt: '2015-03-01T10:00:00Z', noticeVersion: '2024-02-27' } });
    await writer.record({ type: 'WithdrawConsent', subjectId: ended, purpose: TV_ADS, capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' }, occurredAt: '2018-06-01T10:00:00Z' } });
    const laterRun = await new ProofRetentionJob({ ...storage, catalogue, clock: { now: () => NOW }, rightsRequests }).run();
    expect(laterRun.data.removed).toEqual([expect.objectContaining({ subjectId: ended })]);

    const removals = await recordRemovalsOf(storage.store, ended);

    expect(removals.map((removal) => removal.runId)).toEqual([earlierRunId, laterRun.data.runId]);
    expect(removals).toEqual(await removalsAsTheRunsTell(ended));
  });

  // The run is recorded after its removals: a failure in between left removed records the export called never kept.
  it('tells of a removal whose run could not be recorded', async () => {
    const store = Object.create(storage.store) as EventStore;
    store.append = async (streamName, events, options) => {
      if (streamName === PROOF_RETENTION_RUNS_STREAM) throw new Error('the database went away');
      return storage.store.append(streamName, events, options);
    };
    await expect(new ProofRetentionJob({ ...storage, store, catalogue, clock: { now: () => NOW }, rightsRequests }).run()).rejects.toThrow('the database went away');

    expect(await storage.store.readStream(PROOF_RETENTION_RUNS_STREAM)).toEqual([]);
    expect(await recordRemovalsOf(storage.store, ended)).toEqual([
      { runId: expect.any(String), removedAt: NOW, removableFrom: '2023-06-01T10:00:00.000Z', eventsRemoved: 2 },
    ]);
  });

  it('reports without removing anything on a dry run', async () => {
    const run = await job.run({ dryRun: true });
    expect(run.data).toMatchObject({ dryRun: true, removed: [expect.objectContaining({ subjectId: ended })] });
    expect(await storage.store.readStream(`consent-ledger-${ended}`)).toHaveLength(2);
    expect(await storage.vault.hasKey(ended)).toBe(true);
  });
}

describe('the proof-retention job, on SQLite', () =>
  proofRetentionSuite(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-retention-'));
    const store = await createEventStore({ kind: 'sqlite', file: join(directory, 'events.sqlite') });
    const vault = await createPersonalDataVault({ kind: 'sqlite', file: join(directory, 'keys.sqlite'), masterKey: randomBytes(32) });
    return {
      store,
      vault,
      async dispose() {
        await vault.close();
        await store.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }));

describeWithPostgres('the proof-retention job, on PostgreSQL', () =>
  proofRetentionSuite(async () => {
    const schema = await createTestSchema('cl_retention');
    const store = await createEventStore({ kind: 'postgres', url: schema.url });
    const vault = await createPersonalDataVault({ kind: 'postgres', url: schema.url, masterKey: randomBytes(32) });
    return {
      store,
      vault,
      async dispose() {
        await vault.close();
        await store.close();
        await schema.drop();
      },
    };
  }));

describeWithPostgres('the proof-retention job, run by two API processes on one PostgreSQL database', () => {
  const erased = 'retention-erased-twice';
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  const opened: Array<{ store: EventStore; vault: PersonalDataVault }> = [];
  const masterKey = randomBytes(32);
  const openProcess = async () => {
    const store = await createEventStore({ kind: 'postgres', url: schema.url });
    const vault = await createPersonalDataVault({ kind: 'postgres', url: schema.url, masterKey });
    opened.push({ store, vault });
    return { store, vault };
  };

  beforeEach(async () => {
    schema = await createTestSchema('cl_retention_two');
    const { store, vault } = await openProcess();
    const clock = new ManualClock('2015-03-01T10:00:00Z');
    const writer = new LedgerWriter(store, vault, clock);
    await writer.record({ type: 'GiveConsent', subjectId: erased, purpose: 'newsletter-prospects', capture: { touchpoint: 'event', actor: { kind: 'subject' }, noticeVersion: '2024-02-27', evidenceRef: 'form-0042' } });
    clock.set('2015-06-01T10:00:00Z');
    await writer.record({ type: 'EraseSubject', subjectId: erased, capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' } } });
  });
  afterEach(async () => {
    for (const { store, vault } of opened.splice(0)) {
      await vault.close();
      await store.close();
    }
    await schema.drop();
  });

  it('takes turns: one run removes the record due, the other finds nothing left, and a subject who comes back is not refused', async () => {
    const jobs = await Promise.all(
      [1, 2].map(async () => {
        const { store, vault } = await openProcess();
        return new ProofRetentionJob({ store, vault, catalogue, clock: { now: () => NOW }, rightsRequests: new RightsRequests(store) });
      }),
    );
    const runs = await Promise.all(jobs.map((job) => job.run()));

    expect(runs.flatMap((run) => run.data.removed.map((each) => each.subjectId))).toEqual([erased]);
    expect(runs.flatMap((run) => run.data.failures)).toEqual([]);
    const { store, vault } = opened[0];
    const writer = new LedgerWriter(store, vault, new ManualClock('2025-02-01T10:00:00Z'));
    const back = await writer.record({ type: 'GiveConsent', subjectId: erased, purpose: 'newsletter-prospects', capture: { touchpoint: 'event', actor: { kind: 'subject' }, noticeVersion: '2024-02-27', evidenceRef: 'form-0099' } });
    expect(back.events).toHaveLength(1);
  });
});

describeWithPostgres('the proof-retention job, on PostgreSQL, when one subject\'s stream is locked by another session', () => {
  const [locked, next] = ['retention-locked', 'retention-next'];
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let store: EventStore;
  let vault: PersonalDataVault;
  let holder: Client;

  beforeEach(async () => {
    schema = await createTestSchema('cl_retention_locked');
    store = await createEventStore({ kind: 'postgres', url: schema.url });
    vault = await createPersonalDataVault({ kind: 'postgres', url: schema.url, masterKey: randomBytes(32) });
    const clock = new ManualClock('2015-03-01T10:00:00Z');
    const writer = new LedgerWriter(store, vault, clock);
    for (const subjectId of [locked, next]) {
      await writer.record({ type: 'GiveConsent', subjectId, purpose: TV_ADS, capture: { touchpoint: 'call-center', actor: { kind: 'agent', id: 'cc-3' }, noticeVersion: '2024-02-27' } });
    }
    clock.set('2018-06-01T10:00:00Z');
    for (const subjectId of [locked, next]) {
      await writer.record({ type: 'WithdrawConsent', subjectId, purpose: TV_ADS, capture: { touchpoint: 'myproximus-web', actor: { kind: 'subject' } } });
    }
    holder = new Client({ connectionString: schema.url });
    await holder.connect();
  });
  afterEach(async () => {
    await holder.end();
    await vault.close();
    await store.close();
    await schema.drop();
  });

  // Found in review: a lock on one subject's stream held past the store's lock timeout (a
  // transaction left open on the server by a cut connection, until its idle timeout) stopped the
  // whole run as if PostgreSQL could not be reached: the subjects after it kept, the run unrecorded.
  it('records that subject as a failure and goes on with the others', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM streams WHERE stream_name = $1 FOR UPDATE', [`consent-ledger-${locked}`]);
    const job = new ProofRetentionJob({ store, vault, catalogue, clock: { now: () => NOW }, rightsRequests: new RightsRequests(store) });

    const run = await job.run();
    await holder.query('ROLLBACK');

    expect(run.data.removed.map((each) => each.subjectId)).toEqual([next]);
    expect(run.data.failures).toEqual([{ subjectId: locked, reason: expect.stringMatching(/^key destroyed, stream not removed: .*lock timeout/) }]);
    expect(await store.readStream(`consent-ledger-${next}`)).toEqual([]);
    expect(await withClient(schema.url, async (client) => (await client.query('SELECT count(*)::int AS runs FROM events WHERE stream_name = $1', [PROOF_RETENTION_RUNS_STREAM])).rows[0].runs)).toBe(1);
  }, 30_000);
});
