import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Catalogue, loadCatalogue, type Instant, type LedgerEvent, type SubjectId } from '@consent-ledger/domain';
import { catalogue, consentGiven, instant, relationshipStarted, subjectErased } from '@consent-ledger/domain/testing';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import operatorCatalogue from '../../../catalogues/proximus.json';
import { createTestSchema, describeWithPostgres } from '../../../test/support/services';
import { createReadModels, type ReadModelStorageOptions } from './create-read-models';
import { startProjections } from './projection-runner';
import { republicationMarkerOf } from './storage/read-model-storage';
import { appendToLog } from './testing/stored-events';

const FEED = 'consent-feed';
const PICKX = 'targeted-tv-advertising-pickx';
const at = (day: number) => instant(`2024-05-${String(day).padStart(2, '0')}T09:00:00Z`);
const of = (subjectId: string, day: number) => ({ subjectId: subjectId as SubjectId, occurredAt: at(day), recordedAt: at(day) });
/** Long before any subject's next change: the republication does not wait for the sweep. */
const SWEPT_UP_TO = '2000-01-01T00:00:00.000Z' as Instant;

/** The operator's catalogue with Pickx TV ads no longer for Proximus customers: rules under which a Proximus customer never was a member. */
const pickxNotForProximus: Catalogue = loadCatalogue({
  ...operatorCatalogue,
  catalogueVersion: `${operatorCatalogue.catalogueVersion}-pickx-scarlet-only`,
  purposes: operatorCatalogue.purposes.map((purpose) => (purpose.id === PICKX ? { ...purpose, excludedBrands: ['proximus'] } : purpose)),
});

/**
 * A rebuild decides every membership again under the rules now in force. A subject a partner was
 * told is a member, and who under those rules never was one, has no row after it; the partner must
 * still hear that the person left, or it targets them for ever (found in review: a Scarlet-only
 * customer stayed in Ads & Data after migration 13, and after being erased).
 */
function audiencesAfterARuleChange(open: () => Promise<{ storage: ReadModelStorageOptions; dispose(): Promise<void> }>) {
  let storage: ReadModelStorageOptions;
  let dispose: () => Promise<void>;
  let store: EventStore;
  beforeEach(async () => {
    ({ storage, dispose } = await open());
    store = createInMemoryEventStore();
  });
  afterEach(async () => {
    await store.close();
    await dispose();
  });

  const record = (...events: LedgerEvent[]) => appendToLog(store, ...events);

  /** Keeps the read models under `rules` until they applied the log, then runs `work` on them. */
  const keepUnder = async <T>(rules: Catalogue, work: (readModels: Awaited<ReturnType<typeof createReadModels>>) => Promise<T>): Promise<T> => {
    const readModels = await createReadModels({ storage, catalogue: rules, store, keepsThem: true, log: { warn: () => undefined } });
    const projections = startProjections({ readModels, store, sweepEveryMs: 0, log: { warn: () => undefined, error: () => undefined } });
    try {
      await projections.caughtUp(10_000);
      return await work(readModels);
    } finally {
      await projections.stop();
      await readModels.close();
    }
  };

  it('tells the partner that a member under the old rules, who never was one under the new, left', async () => {
    await record(relationshipStarted(of('member', 1)), consentGiven({ ...of('member', 2), purpose: PICKX }), relationshipStarted(of('never', 1)));
    const head = await store.headPosition();
    await keepUnder(catalogue, async (readModels) => {
      expect((await readModels.storage.views(['member'])).get('member')?.audiences.get('pickx-tv-ads')?.member).toBe(true);
      // The feed had published it all.
      await readModels.storage.saveCheckpoint(FEED, head);
    });

    const audiences = await keepUnder(pickxNotForProximus, async (readModels) => {
      expect(await readModels.storage.checkpoint(republicationMarkerOf(FEED))).toBe(head);
      expect(await readModels.storage.enqueueRepublicationPage(FEED, head, SWEPT_UP_TO, 100)).toEqual({ kind: 'queued', queued: 2, isLast: true });
      const views = await readModels.storage.views(['member', 'never']);
      return { member: views.get('member')?.audiences, never: views.get('never')?.audiences };
    });

    expect([...(audiences.member?.values() ?? [])]).toEqual([expect.objectContaining({ audience: 'pickx-tv-ads', member: false, validUntil: null })]);
    expect(audiences.never?.size).toBe(0);
  });

  // Found in review: the republication leaves erased subjects out (their tombstones go with the
  // erasure), and the feed sends a tombstone only for an audience the subject has a row in. A
  // subject erased after the rebuild, before the republication reached it, had neither: the
  // partner kept the person as a member for ever.
  it('sends a partner the tombstone of a subject it heard of before the rebuild and erased before its republication', async () => {
    await record(relationshipStarted(of('member', 1)), consentGiven({ ...of('member', 2), purpose: PICKX }));
    const head = await store.headPosition();
    await keepUnder(catalogue, (readModels) => readModels.storage.saveCheckpoint(FEED, head));

    const erased = await keepUnder(pickxNotForProximus, async (readModels) => {
      await record(subjectErased(of('member', 3)));
      const erasure = await store.headPosition();
      await readModels.waitFor(erasure);
      return (await readModels.storage.views(['member'])).get('member');
    });

    expect(erased?.ledger.erasure).toBeDefined();
    // What the feed publishing the erasure sends a tombstone for.
    expect([...(erased?.audiences.values() ?? [])]).toEqual([expect.objectContaining({ audience: 'pickx-tv-ads', member: false })]);
  });
}

describe('audience memberships in SQLite after a rule change', () => {
  audiencesAfterARuleChange(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-rule-change-'));
    return { storage: { kind: 'sqlite', file: join(directory, 'state.sqlite') }, dispose: async () => rmSync(directory, { recursive: true, force: true }) };
  });
});

describeWithPostgres('audience memberships in PostgreSQL after a rule change', () => {
  audiencesAfterARuleChange(async () => {
    const schema = await createTestSchema('rulechg_rm');
    return { storage: { kind: 'postgres', url: schema.url }, dispose: () => schema.drop() };
  });
});
