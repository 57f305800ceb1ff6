import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestMicroservice } from '@nestjs/common';
import { canonicalJson } from '@consent-ledger/event-store';
import { createProjector } from '../../apps/projector/src/projector';
import { ProjectorResources } from '../../apps/projector/src/projector-resources';
import { testProjectorConfig } from '../../apps/projector/src/testing/test-config';
import { TopicReader } from '../../apps/projector/src/testing/topic-reader';
import { LedgerStorage } from '../../apps/consent-api/src/ledger/ledger-storage';
import { newSubjectId, startTestApi, TEST_KEYS, type StoreKind, type TestApi } from '../../apps/consent-api/src/testing/test-api';
import { describeWithKafka, describeWithPostgres, kafkaTestBrokers, withClient } from '../support/services';

const PROSPECTING = 'prospect-contact-collection-events';
const MOTIVATED = 'myproximus-app-usage-analytics';

/**
 * A prospect met at an event leaves contact details and a call-recording reference, then asks to
 * be erased. Afterwards no byte of the database files or of any Kafka topic holds that personal
 * data in clear, the sealed copies can no longer be opened, and the pseudonymous record still
 * answers decisions, now and for the past.
 */
function erasureSuite(kind: StoreKind) {
  let api: TestApi;
  let projector: INestMicroservice;
  let resources: ProjectorResources;
  let reader: TopicReader;
  const subjectId = newSubjectId('prospect');
  const tag = randomBytes(4).toString('hex');
  const personalData = {
    name: `Jana Peeters-${tag}`,
    email: `jana.${tag}@example.be`,
    phone: `+32470${String(randomInt(100_000, 999_999))}`,
    recording: `call-recording-${tag}-0042`,
    justification: `I do not want my app usage ${tag} analysed`,
  };
  let consentGivenAt: string;
  let givenRequest: Record<string, unknown>;

  beforeAll(async () => {
    api = await startTestApi(kind, { projector: 'off' });
    const config = testProjectorConfig({
      eventStore: api.config.eventStore as 'sqlite' | 'postgres',
      dataDir: api.config.dataDir,
      ...(api.config.databaseUrl && { databaseUrl: api.config.databaseUrl }),
      masterKey: api.config.masterKey,
    });
    projector = await createProjector(config, { logger: false });
    await projector.listen();
    resources = projector.get(ProjectorResources);
    reader = await TopicReader.open(config.kafkaBrokers, Object.values(resources.topics));

    givenRequest = {
      type: 'GiveConsent',
      subjectId,
      purpose: PROSPECTING,
      contact: { name: personalData.name, email: personalData.email, phone: personalData.phone },
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE', evidenceRef: personalData.recording },
    };
    const given = await api.command(givenRequest);
    expect(given.status).toBe(201);
    consentGivenAt = new Date().toISOString();
    const objected = await api.command({
      type: 'Object',
      subjectId,
      purpose: MOTIVATED,
      justification: personalData.justification,
      capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' } },
    });
    expect(objected.status).toBe(201);
    const beforeErasure = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.admin });
    expect(beforeErasure.body.choices[0].evidence).toEqual({ reference: personalData.recording, contact: { name: personalData.name, email: personalData.email, phone: personalData.phone } });

    expect((await api.command({ type: 'EraseSubject', subjectId, capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' } } })).status).toBe(201);
    // The projector has dealt with the erasure once it published the event and the state's tombstone.
    await reader.until(() => reader.messages(resources.topics.state, subjectId).some((message) => message.value === null), 'the state tombstone', 30_000);
    await reader.until(() => reader.messages(resources.topics.events, subjectId).some((message) => message.value?.eventType === 'SubjectErased'), 'the erasure event', 30_000);
  }, 90_000);

  afterAll(async () => {
    await reader?.close();
    await projector?.close();
    await api?.close();
  });

  const plaintexts = () => Object.entries(personalData);
  const found = (haystack: Buffer | string) => plaintexts().filter(([, text]) => haystack.includes(text)).map(([name]) => name);

  it('left the personal data only sealed in the log, and published the ledger on Kafka', async () => {
    const [stored] = await api.store.readStream(`consent-ledger-${subjectId}`);
    expect(JSON.stringify(stored.data)).toMatch(/"personalData":"sealed:v1:/);
    expect(reader.messages(resources.topics.events, subjectId).map((message) => message.value.eventType)).toEqual(['ConsentGiven', 'ObjectionRaised', 'SubjectErased']);
  });

  it('destroyed the key, so no sealed copy can be opened any more', async () => {
    expect(await api.app.get(LedgerStorage).vault.hasKey(subjectId)).toBe(false);
    expect(await resources.vault.hasKey(subjectId)).toBe(false);
    const [stored] = await api.store.readStream(`consent-ledger-${subjectId}`);
    expect(await resources.vault.unseal(subjectId, stored.data.personalData as never)).toBeUndefined();
  });

  it('leaves no plaintext of the personal data in the raw database', async () => {
    const raw = kind === 'sqlite' ? sqliteFilesOf(api.config.dataDir) : await postgresDumpOf(api.config.databaseUrl!);
    expect(raw.includes(subjectId)).toBe(true);
    expect(found(raw)).toEqual([]);
  });

  it('leaves no plaintext of the personal data on any Kafka topic, read by an independent client', async () => {
    const dumped = await kafkaDumpOf(Object.values(resources.topics));
    expect(dumped).toContain(subjectId);
    expect(found(dumped)).toEqual([]);
    expect(found(JSON.stringify(Object.values(resources.topics).flatMap((topic) => reader.messages(topic))))).toEqual([]);
  });

  it('keeps nothing in the log that a right guess of the personal data could be checked against', async () => {
    // Everything else of the request is in the event in clear; a plain hash of the request would
    // confirm a guessed phone number in a few million tries.
    const [stored] = await api.store.readStream(`consent-ledger-${subjectId}`);
    const rightGuess = createHash('sha256').update(canonicalJson(givenRequest)).digest('hex');
    expect(stored.metadata.requestFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.metadata.requestFingerprint).not.toBe(rightGuess);
  });

  it('shows the personal data as erased in the export', async () => {
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.body).toMatchObject({
      personalData: 'erased',
      choices: [{ evidence: { reference: 'erased', contact: 'erased' } }, { evidence: { justification: 'erased' } }, { type: 'SubjectErased' }],
    });
    expect(found(JSON.stringify(exported.body))).toEqual([]);
  });

  it('still answers decisions: erased now, and what held before the erasure', async () => {
    const now = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${PROSPECTING}&channel=email`, { key: TEST_KEYS.reader });
    expect(now.body).toMatchObject({ allowed: false, reason: 'subject-erased' });
    const before = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${PROSPECTING}&channel=email&at=${consentGivenAt}`, { key: TEST_KEYS.reader });
    expect(before.body).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  it('keeps the pseudonymous record intact as proof', async () =>
    expect(await api.store.verify({ streamName: `consent-ledger-${subjectId}` })).toMatchObject({ intact: true, eventsChecked: 3 }));
}

describeWithKafka('erasure of a prospect met at an event, on SQLite', () => erasureSuite('sqlite'));
describeWithKafka('erasure of a prospect met at an event, on PostgreSQL', () => describeWithPostgres('with the PostgreSQL store', () => erasureSuite('postgres')));

/** Every byte of every file in the data directory: the log, its WAL, the read models, the keys. */
function sqliteFilesOf(directory: string): Buffer {
  return Buffer.concat(
    readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(directory, entry.name))),
  );
}

/** Every row of every table of the test schema, rendered as text. */
async function postgresDumpOf(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const { rows: tables } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    );
    const dumps: string[] = [];
    // One statement at a time: a client runs one query at once (pg 9 refuses more).
    for (const { table_name } of tables) {
      const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`);
      dumps.push(`${table_name}\n${rows.map((row) => row.row).join('\n')}`);
    }
    return dumps.join('\n');
  });
}

/** Every message of the topics, key, value and headers, as kcat (a client that is not ours) reads them. */
async function kafkaDumpOf(topics: readonly string[]): Promise<string> {
  const run = promisify(execFile);
  const dumps = await Promise.all(
    topics.map((topic) =>
      run('kcat', ['-b', kafkaTestBrokers().join(','), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\t%h\n'], { maxBuffer: 64 * 1024 * 1024 }).then(
        ({ stdout }) => stdout,
        (error: { stderr?: string }) => (String(error.stderr).includes('Unknown topic') ? '' : Promise.reject(error)),
      ),
    ),
  );
  return dumps.join('\n');
}
