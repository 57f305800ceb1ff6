import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEvent, PurposeId, SubjectId } from '@consent-ledger/domain';
import { catalogue, instant, objectionRaised, relationshipStarted } from '@consent-ledger/domain/testing';
import { type EventStore, openPostgresEventStore, openSqliteEventStore } from '@consent-ledger/event-store';
import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../test/support/services';
import { createReadModels, type ReadModelStorageOptions } from './create-read-models';
import { startProjections } from './projection-runner';
import { republicationMarkerOf } from './storage/read-model-storage';
import { ledgerStream } from './testing/stored-events';

const DIRECT_MARKETING = 'direct-marketing-customers-phone-email' as PurposeId;
const at = (day: number) => instant(`2024-05-${String(day).padStart(2, '0')}T09:00:00Z`);
const started = (subjectId: string, day: number) => relationshipStarted({ subjectId: subjectId as SubjectId, occurredAt: at(day), recordedAt: at(day) });

/** Appends the events with ids derived from their content, so two logs can hold the same events, as a backup holds what its log held. */
async function append(store: EventStore, events: readonly LedgerEvent[]): Promise<void> {
  for (const event of events) {
    const hex = createHash('sha256').update(`${event.type}/${event.data.subjectId}/${event.data.capture.occurredAt}`).digest('hex');
    const eventId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    await store.append(ledgerStream(event.data.subjectId), [{ eventId, type: event.type, schemaVersion: 1, data: event.data as unknown as Record<string, unknown> }], {
      expectedRevision: 'any',
    });
  }
}

/** Keeps the read models (as the API's in-process projector does) on `store` until they have applied its head. */
async function keepReadModels(storage: ReadModelStorageOptions, store: EventStore, work: (readModels: Awaited<ReturnType<typeof createReadModels>>) => Promise<void> = async () => undefined) {
  const warnings: string[] = [];
  const readModels = await createReadModels({ storage, catalogue, store, keepsThem: true, log: { warn: (message) => warnings.push(message) } });
  const projections = startProjections({ readModels, store, sweepEveryMs: 0, log: { warn: () => undefined, error: () => undefined } });
  try {
    await projections.caughtUp(10_000);
    await work(readModels);
    await projections.caughtUp(10_000);
  } finally {
    await projections.stop();
    await readModels.close();
  }
  return { warnings };
}

interface Logs {
  readonly storage: ReadModelStorageOptions;
  /** A log of its own, each call another one (in place of the log file or schema restored from a backup). */
  openLog(): Promise<EventStore>;
}

/**
 * a1–a3 are customers in both logs; b1–b3 only in the one the read models were first built from.
 * Then an objection of a2 and a new customer x1 go into the log opened now.
 */
function readModelsFollowTheLogOpened(open: () => Promise<Logs & { dispose(): Promise<void> }>) {
  let logs: Logs & { dispose(): Promise<void> };
  let stores: EventStore[];
  beforeEach(async () => {
    logs = await open();
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await logs.dispose();
  });
  const openLog = async () => {
    const store = await logs.openLog();
    stores.push(store);
    return store;
  };
  const askDirectMarketing = async (store: EventStore) => {
    let answer;
    await keepReadModels(logs.storage, store, async (readModels) => {
      answer = await readModels.filterAudience(
        { purpose: DIRECT_MARKETING, channel: 'email', at: at(20), subjectIds: ['a1', 'a2', 'b1', 'x1'] },
        await store.headPosition(),
      );
    });
    return answer;
  };

  it('rebuild from a restored backup of the log, which ends before their checkpoint', async () => {
    const original = await openLog();
    await append(original, [started('a1', 1), started('a2', 1), started('a3', 1), started('b1', 2), started('b2', 2), started('b3', 2)]);
    await keepReadModels(logs.storage, original);

    const restored = await openLog();
    await append(restored, [started('a1', 1), started('a2', 1), started('a3', 1)]);
    const { warnings } = await keepReadModels(logs.storage, restored, () =>
      append(restored, [objectionRaised({ subjectId: 'a2' as SubjectId, target: 'direct-marketing', occurredAt: at(10), recordedAt: at(10) }), started('x1', 10)]),
    );

    expect(warnings).toEqual([expect.stringMatching(/^the read models were built from another log than the one opened \(they applied up to position 6, .*the log opened ends at position 3\)/)]);
    expect(await askDirectMarketing(restored)).toEqual({
      allowed: ['a1', 'x1'],
      denied: [
        { subjectId: 'a2', reason: 'objected' },
        { subjectId: 'b1', reason: 'no-relationship' },
      ],
    });
  });

  it('rebuild from a log that holds other events past their checkpoint', async () => {
    const original = await openLog();
    await append(original, [started('a1', 1), started('a2', 1), started('a3', 1), started('b1', 2), started('b2', 2), started('b3', 2)]);
    await keepReadModels(logs.storage, original);

    const other = await openLog();
    await append(other, [
      started('a1', 1),
      started('a2', 1),
      started('a3', 1),
      started('x1', 3),
      started('x2', 3),
      started('x3', 3),
      objectionRaised({ subjectId: 'a2' as SubjectId, target: 'direct-marketing', occurredAt: at(10), recordedAt: at(10) }),
    ]);
    const { warnings } = await keepReadModels(logs.storage, other);

    expect(warnings).toEqual([expect.stringMatching(/the log opened holds event \S+ there\)/)]);
    expect(await askDirectMarketing(other)).toEqual({
      allowed: ['a1', 'x1'],
      denied: [
        { subjectId: 'a2', reason: 'objected' },
        { subjectId: 'b1', reason: 'no-relationship' },
      ],
    });
  });

  it('go on from their checkpoint, rebuilding nothing, on the log they were built from', async () => {
    const log = await openLog();
    await append(log, [started('a1', 1), started('a2', 1)]);
    await keepReadModels(logs.storage, log);
    await append(log, [objectionRaised({ subjectId: 'a2' as SubjectId, target: 'direct-marketing', occurredAt: at(10), recordedAt: at(10) })]);
    const { warnings } = await keepReadModels(logs.storage, log);
    expect(warnings).toEqual([]);
    expect(await askDirectMarketing(log)).toEqual({
      allowed: ['a1'],
      denied: [
        { subjectId: 'a2', reason: 'objected' },
        { subjectId: 'b1', reason: 'no-relationship' },
        { subjectId: 'x1', reason: 'no-relationship' },
      ],
    });
  });

  it('have a feed that had published past the log opened publish everyone again, from the log\'s end', async () => {
    const original = await openLog();
    await append(original, [started('a1', 1), started('a2', 1), started('b1', 2), started('b2', 2)]);
    await keepReadModels(logs.storage, original, async (readModels) => void (await readModels.storage.saveCheckpoint('consent-feed', 4n)));

    const restored = await openLog();
    await append(restored, [started('a1', 1), started('a2', 1)]);
    await keepReadModels(logs.storage, restored, async (readModels) => {
      expect(await readModels.storage.checkpoint('consent-feed')).toBe(2n);
      expect(await readModels.storage.checkpoint(republicationMarkerOf('consent-feed'))).toBe(2n);
    });
  });
}

describe('read models in SQLite, opened on another log than they were built from', () => {
  readModelsFollowTheLogOpened(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-follow-log-'));
    let logs = 0;
    return {
      storage: { kind: 'sqlite', file: join(directory, 'state.sqlite') },
      openLog: async () => openSqliteEventStore({ file: join(directory, `events-${++logs}.sqlite`), pollIntervalMs: 20 }),
      dispose: async () => rmSync(directory, { recursive: true, force: true }),
    };
  });
});

describeWithPostgres('read models in PostgreSQL, opened on another log than they were built from', () => {
  readModelsFollowTheLogOpened(async () => {
    const readModelSchema = await createTestSchema('fixst_rm');
    const logSchemas: TestSchema[] = [];
    return {
      storage: { kind: 'postgres', url: readModelSchema.url },
      openLog: async () => {
        const schema = await createTestSchema('fixst_log');
        logSchemas.push(schema);
        return openPostgresEventStore({ url: schema.url });
      },
      dispose: async () => {
        await Promise.all([readModelSchema, ...logSchemas].map((schema) => schema.drop()));
      },
    };
  });
});

