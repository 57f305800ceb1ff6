import { type Instant, LEDGER_RULES, loadCatalogue, type Catalogue } from '@consent-ledger/domain';
import { createInMemoryEventStore, type EventStore } from '@consent-ledger/event-store';
import { InMemoryVault } from '@consent-ledger/personal-data';
import proximus from '../../../catalogues/proximus.json';
import { CommandIntake } from './command-intake';
import { InMemoryIdempotencyRecords } from './idempotency/in-memory-idempotency-records';
import { LedgerStreams } from './ledger-streams';
import { CATALOGUE_PUBLISHED, PUBLISHED_CATALOGUES_STREAM, publishCatalogue } from './published-catalogues';
import { ledgerStreamOf } from './subject-streams';
import { commandJson, TEST_NOTICE } from './testing/command-json';

const shipped = loadCatalogue(proximus);
/** The catalogue read from the next notice, which names no other. */
const next = loadCatalogue({ ...proximus, catalogueVersion: 'proximus-be-2026-12-01.1', noticeVersion: '2026-12-01' });

/** One process of the deployment: it publishes its catalogue, then takes commands (HTTP and Kafka share this intake). */
async function processOn(store: EventStore, catalogue: Catalogue) {
  const published = await publishCatalogue(store, catalogue);
  const commands = new CommandIntake({
    catalogue: published,
    vault: new InMemoryVault(),
    idempotencyRecords: new InMemoryIdempotencyRecords(),
    ledgerStreams: new LedgerStreams(store, published),
    now: () => '2026-11-25T10:00:00.000Z' as Instant,
  });
  return async (json: Record<string, unknown>) => {
    const checked = commands.check(json);
    if (checked.errors) throw new Error(JSON.stringify(checked.errors));
    return commands.execute(checked.value, { client: 'shop-app', idempotencyKey: undefined, requestFingerprint: commands.fingerprintOf(json) });
  };
}

const consentUnder = (subjectId: string, noticeVersion: string) =>
  commandJson.giveConsent(subjectId, { capture: { noticeVersion, occurredAt: '2026-11-20T10:00:00Z' } });

describe('the notices a command may cite, as the catalogues kept in the log know them', () => {
  it('refuses a notice no catalogue names, naming the rule and the field, and records nothing', async () => {
    const store = createInMemoryEventStore();
    const submit = await processOn(store, shipped);
    const refused = await submit(consentUnder('subject-1', '2099-12-31'));
    expect(refused).toMatchObject({ status: 422, body: { error: 'notice-version-unknown', message: expect.stringContaining('capture.noticeVersion') } });
    expect((refused.body as { message: string }).message).toContain(LEDGER_RULES['notice-version-unknown']);
    expect(await store.readStream(ledgerStreamOf('subject-1'))).toEqual([]);
  });

  // A deployment moved to a new catalogue still receives paper signed under the previous notice.
  it('records late paperwork under the notice of the catalogue the deployment ran on before', async () => {
    const store = createInMemoryEventStore();
    await processOn(store, shipped);
    const submit = await processOn(store, next);
    expect(await submit(consentUnder('subject-1', TEST_NOTICE))).toMatchObject({ status: 201, body: { events: [{ type: 'ConsentGiven' }] } });
  });

  // In a rolling upgrade a process still on the old catalogue receives commands under the new notice.
  it('records a consent under the notice of a catalogue another process published after this one started', async () => {
    const store = createInMemoryEventStore();
    const submitToOld = await processOn(store, shipped);
    expect(await submitToOld(consentUnder('subject-1', TEST_NOTICE))).toMatchObject({ status: 201 });
    await processOn(store, next);
    expect(await submitToOld(consentUnder('subject-2', '2026-12-01'))).toMatchObject({ status: 201, body: { events: [{ type: 'ConsentGiven' }] } });
  });

  it('knows the notice of a catalogue kept in a format this code no longer loads', async () => {
    const store = createInMemoryEventStore();
    await store.append(PUBLISHED_CATALOGUES_STREAM, [
      { eventId: '00000000-0000-4000-8000-000000000001', type: CATALOGUE_PUBLISHED, schemaVersion: 1, data: { reference: 'format-1#aaaa', catalogueVersion: 'format-1', noticeVersion: '2020-01-01', definition: { purposes: 'in a format since replaced' } } },
    ], { expectedRevision: 'any' });
    const submit = await processOn(store, shipped);
    expect(await submit(consentUnder('subject-1', '2020-01-01'))).toMatchObject({ status: 201 });
  });

  it('reads only what was published since its last read when a command cites a notice it does not know', async () => {
    const store = createInMemoryEventStore();
    const reads: (number | undefined)[] = [];
    const counted = Object.create(store, {
      readStream: { value: (name: string, options?: { fromRevision?: number }) => (name === PUBLISHED_CATALOGUES_STREAM && reads.push(options?.fromRevision), store.readStream(name, options)) },
    }) as EventStore;
    const submit = await processOn(counted, shipped);
    reads.length = 0;
    await submit(consentUnder('subject-1', TEST_NOTICE));
    await submit(consentUnder('subject-2', TEST_NOTICE));
    expect(reads).toEqual([0]);
    await submit(consentUnder('subject-3', 'v1'));
    expect(reads).toEqual([0, 1]);
  });
});
