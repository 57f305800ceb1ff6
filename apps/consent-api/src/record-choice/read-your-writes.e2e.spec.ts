import { randomBytes } from 'node:crypto';
import { CHANNELS, DATA_SOURCES, loadCatalogue } from '@consent-ledger/domain';
import proximus from '../../../../catalogues/proximus.json';
import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../../test/support/services';
import { commandJson, type Json, newSubjectId, type StoreKind, startTestApi, type TestApi, TEST_KEYS } from '../testing/test-api';

const catalogue = loadCatalogue(proximus);
const consentPurposes = [...catalogue.purposes.values()].filter((purpose) => purpose.legalBasis === 'consent' && purpose.excludedBrands.length === 0).map((purpose) => purpose.id);

/** Runs `work` over `items` with at most `width` in flight. */
async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

/** Makes the subject a customer first: some consent purposes (Pickx ads, directory listing) count only for customers. */
async function becomeCustomer(api: TestApi, subjectId: string): Promise<void> {
  expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);
}

/** Commands on one subject (a customer) and the question that must see each of them as soon as it is acknowledged. */
function choicesOnOneSubject(subjectId: string): Array<{ json: Json; isVisible: (reader: TestApi) => Promise<boolean> }> {
  const decided = (purpose: string) => async (reader: TestApi) =>
    (await reader.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}`)).body.allowed === true;
  const preferences = async (reader: TestApi) => (await reader.call('GET', `/v1/subjects/${subjectId}/preferences`)).body;
  return [
    ...consentPurposes.map((purpose) => ({ json: commandJson.giveConsent(subjectId, { purpose }), isVisible: decided(purpose) })),
    ...CHANNELS.map((channel) => ({
      json: commandJson.restrictChannel(subjectId, { channel }),
      isVisible: async (reader: TestApi) => (await preferences(reader)).restrictedChannels.some((entry: Json) => entry.channel === channel),
    })),
    ...DATA_SOURCES.map((source) => ({
      json: commandJson.optOutSource(subjectId, { source }),
      isVisible: async (reader: TestApi) => (await preferences(reader)).optedOutSources.some((entry: Json) => entry.source === source),
    })),
  ];
}

function readingYourWrites(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  it('shows every choice made concurrently on one subject in the very next question, and loses none', async () => {
    const subjectId = newSubjectId();
    await becomeCustomer(api, subjectId);
    const choices = choicesOnOneSubject(subjectId);
    const seen = await Promise.all(
      choices.map(async ({ json, isVisible }, index) => {
        const response = await api.command(json, { idempotencyKey: `one-subject-${index}`, key: index % 2 ? TEST_KEYS.channel : TEST_KEYS.admin });
        return response.status === 201 && (await isVisible(api));
      }),
    );
    expect(seen.every(Boolean)).toBe(true);
    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`);
    expect(history.body.events).toHaveLength(1 + choices.length);
  });

  it('shows a choice from a channel whose clock runs ahead at once, and lets the next choice outrank it', async () => {
    const subjectId = newSubjectId();
    const purpose = 'targeted-tv-advertising-pickx';
    const ahead = new Date(Date.now() + 2 * 60_000).toISOString();
    const decided = async () => (await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}&channel=tv-screen`)).body;
    await becomeCustomer(api, subjectId);
    expect((await api.command(commandJson.giveConsent(subjectId, { purpose }))).status).toBe(201);

    expect((await api.command(commandJson.withdrawConsent(subjectId, { purpose, capture: { occurredAt: ahead } }))).status).toBe(201);
    expect(await decided()).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
    // The same message delivered again (another key, as a channel's retry queue may send it) adds nothing.
    expect(await api.command(commandJson.withdrawConsent(subjectId, { purpose, capture: { occurredAt: ahead } }))).toMatchObject({ status: 200, body: { events: [] } });

    expect((await api.command(commandJson.giveConsent(subjectId, { purpose }))).status).toBe(201);
    expect(await decided()).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  it('stamps a request dated ahead, refused at first and delivered again, at its first delivery', async () => {
    const subjectId = newSubjectId();
    const endAhead = commandJson.endRelationship(subjectId, { capture: { occurredAt: new Date(Date.now() + 2 * 60_000).toISOString() } });
    expect((await api.command(endAhead)).status).toBe(422);
    await becomeCustomer(api, subjectId);
    // Dated at its first delivery, before the contract began, it ends no contract (it is kept for
    // a start dated before it that may still arrive).
    expect(await api.command(endAhead)).toMatchObject({ status: 201, body: { events: [{ type: 'RelationshipEnded' }] } });
    const preferences = await api.call('GET', `/v1/subjects/${subjectId}/preferences`);
    expect(preferences.body.relationships).toEqual([expect.objectContaining({ status: 'active' })]);
  });

  it('shows every choice made concurrently on many subjects in the next decision and in audience filtering', async () => {
    const subjectIds = Array.from({ length: 150 }, () => newSubjectId('crowd'));
    const purpose = 'targeted-tv-advertising-pickx';
    const decidedRightAway = await inParallel(subjectIds, 32, async (subjectId) => {
      await becomeCustomer(api, subjectId);
      const recorded = await api.command(commandJson.giveConsent(subjectId, { purpose }));
      const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${purpose}&channel=tv-screen`);
      return recorded.status === 201 && decision.body.allowed === true;
    });
    expect(decidedRightAway.every(Boolean)).toBe(true);

    const audience = await api.call('POST', '/v1/decisions', { body: { purpose, channel: 'tv-screen', subjectIds } });
    expect(audience.status).toBe(200);
    expect([...audience.body.allowed].sort()).toEqual([...subjectIds].sort());
  });
}

describe('read-your-writes on SQLite', () => readingYourWrites('sqlite'));
describeWithPostgres('read-your-writes on PostgreSQL', () => readingYourWrites('postgres'));

describeWithPostgres('read-your-writes across two API processes on one PostgreSQL database', () => {
  let schema: TestSchema;
  let writer: TestApi;
  let reader: TestApi;
  beforeAll(async () => {
    schema = await createTestSchema('cl_two');
    const shared = { eventStore: 'postgres', databaseUrl: schema.url, masterKey: randomBytes(32) } as const;
    writer = await startTestApi('sqlite', shared);
    reader = await startTestApi('sqlite', { ...shared, projector: 'off' });
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await schema.drop();
  });

  it('answers from the other process what this one just acknowledged, even with its cache warm', async () => {
    const subjectId = newSubjectId();
    await becomeCustomer(writer, subjectId);
    for (const [index, { json, isVisible }] of choicesOnOneSubject(subjectId).entries()) {
      const author = index % 2 ? writer : reader;
      const other = author === writer ? reader : writer;
      expect((await author.command(json)).status).toBe(201);
      expect(await isVisible(other)).toBe(true);
    }
  });

  it('never loses a choice when both processes write to one subject at once', async () => {
    const subjectId = newSubjectId();
    const choices = choicesOnOneSubject(subjectId);
    const answers = await Promise.all(choices.map(({ json }, index) => (index % 2 ? writer : reader).command(json)));
    expect(answers.map((answer) => answer.status)).toEqual(choices.map(() => 201));
    expect((await reader.call('GET', `/v1/subjects/${subjectId}/history`)).body.events).toHaveLength(choices.length);
  });
});
