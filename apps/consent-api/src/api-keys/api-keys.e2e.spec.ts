import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesAtOnce } from '../../../../test/support/processes-at-once';
import { describeWithPostgres } from '../../../../test/support/services';
import { createConsentApi } from '../consent-api';
import { ApiKeys } from './api-keys';
import { callApi, commandJson, MOTIVATED_PURPOSE, newSubjectId, REPOSITORY_ROOT, startTestApi, type StoreKind, TEST_KEYS, type TestApi, testConfig } from '../testing/test-api';

describe('API keys', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
  });
  afterAll(() => api.close());

  it('answers 401 without a key, with an unknown key and with a malformed header', async () => {
    const path = `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`;
    const answers = await Promise.all([
      api.call('GET', path, { key: null }),
      api.call('GET', path, { key: 'not-a-key-anyone-was-given' }),
      api.call('GET', path, { key: null, headers: { authorization: `Basic ${TEST_KEYS.admin}` } }),
    ]);
    for (const answer of answers) expect([answer.status, answer.body, answer.headers.get('www-authenticate')]).toEqual([401, { error: 'unauthorized' }, 'Bearer']);
  });

  it('answers 401 before reading the body of a caller without a key, whatever the body is', async () => {
    const before = await api.store.headPosition();
    const answers = await Promise.all([
      api.call('POST', '/v1/commands', { key: null, rawBody: '{"type":' }),
      api.call('POST', '/v1/commands', { key: null, rawBody: 'not json', headers: { 'content-type': 'text/plain' } }),
      api.call('POST', '/v1/commands', { key: 'not-a-key-anyone-was-given', body: commandJson.startRelationship(newSubjectId()) }),
      api.call('OPTIONS', '/v1/commands', { key: null, rawBody: '{"type":' }),
    ]);
    for (const answer of answers) expect([answer.status, answer.body, answer.headers.get('www-authenticate')]).toEqual([401, { error: 'unauthorized' }, 'Bearer']);
    expect(await api.store.headPosition()).toBe(before);
  });

  it('reads the authentication scheme in any case', async () => {
    const answer = await api.call('GET', `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`, { key: null, headers: { authorization: `bearer ${TEST_KEYS.admin}` } });
    expect(answer.status).toBe(200);
  });

  // RFC 9110 puts one or more spaces after the scheme; a client writing two was refused 401 (found in review).
  it('reads a key sent after more than one space', async () => {
    const answer = await api.call('GET', `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`, { key: null, headers: { authorization: `Bearer  ${TEST_KEYS.admin}` } });
    expect(answer.status).toBe(200);
  });

  it('judges every request on a kept-alive connection by the key it carries', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (path: string, authorization?: string) =>
      new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
        const request = httpRequest(`${api.url}${path}`, { agent, headers: authorization ? { authorization } : {} }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, reusedSocket: request.reusedSocket }));
        });
        request.on('error', reject).end();
      });
    const decision = `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`;
    try {
      const answers = [
        await ask(decision, `Bearer ${TEST_KEYS.admin}`),
        await ask(decision, 'Bearer not-a-key-anyone-was-given'),
        await ask(decision),
        await ask(`/v1/subjects/${newSubjectId()}/history`, `Bearer ${TEST_KEYS.channel}`),
        await ask(decision, `Bearer ${TEST_KEYS.admin}`),
      ];
      expect(answers.map(({ status }) => status)).toEqual([200, 401, 401, 403, 200]);
      expect(answers.slice(1).every(({ reusedSocket }) => reusedSocket)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('answers 403 when the key lacks the scope', async () => {
    const readerRecords = await api.command(commandJson.restrictChannel(newSubjectId()), { key: TEST_KEYS.reader });
    const channelReadsHistory = await api.call('GET', `/v1/subjects/${newSubjectId()}/history`, { key: TEST_KEYS.channel });
    expect([readerRecords.status, readerRecords.body.error]).toEqual([403, 'forbidden']);
    expect([channelReadsHistory.status, channelReadsHistory.body.error]).toEqual([403, 'forbidden']);
  });

  // Found by an integrator: "this needs one of the scopes decisions:read" named a list of one.
  it('names the one scope a route needs as that scope', async () => {
    const channelReadsHistory = await api.call('GET', `/v1/subjects/${newSubjectId()}/history`, { key: TEST_KEYS.channel });
    expect(channelReadsHistory.body).toEqual({ error: 'forbidden', message: 'this needs the scope history:read' });
  });

  it('lets only objections:review keys review an objection', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.object(subjectId, { purpose: MOTIVATED_PURPOSE, justification: 'Please stop.' }), { key: TEST_KEYS.channel });
    const before = await api.store.headPosition();

    const byChannel = await api.command(commandJson.reviewObjection(subjectId), { key: TEST_KEYS.channel });
    expect(byChannel.status).toBe(403);
    expect(byChannel.body.message).toMatch(/objections:review/);
    expect(await api.store.headPosition()).toBe(before);
    expect((await api.command(commandJson.reviewObjection(subjectId), { key: TEST_KEYS.admin })).status).toBe(201);
  });

  it('lets only subjects:erase keys erase a subject', async () => {
    const response = await api.command(commandJson.eraseSubject(newSubjectId()), { key: TEST_KEYS.channel });
    expect(response.status).toBe(403);
    expect(response.body.message).toMatch(/subjects:erase/);
  });

  it('keeps a key bound to the TV menu to choices made in the TV menu', async () => {
    const subjectId = newSubjectId();
    const before = await api.store.headPosition();
    const elsewhere = await api.command(commandJson.restrictChannel(subjectId, { capture: { touchpoint: 'shop' } }), { key: TEST_KEYS.tvMenu });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toEqual({ error: 'forbidden', message: 'this key records choices for tv-menu only, not shop' });
    expect(await api.store.headPosition()).toBe(before);

    const inTheMenu = await api.command(commandJson.restrictChannel(subjectId, { capture: { touchpoint: 'tv-menu' } }), { key: TEST_KEYS.tvMenu });
    expect(inTheMenu.status).toBe(201);
  });

  it('records which client sent each command', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.restrictChannel(subjectId, { capture: { touchpoint: 'tv-menu' } }), { key: TEST_KEYS.tvMenu });
    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`, { key: TEST_KEYS.auditor });
    expect(history.body.events[0].metadata).toMatchObject({ client: 'tv-decoder', commandType: 'RestrictChannel' });
  });

  it('needs no key for health and documentation', async () => {
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);
    expect((await api.call('GET', '/docs', { key: null })).status).toBe(200);
  });
});

/**
 * The relationship is the CRM's and billing's fact. A channel's key (or a stolen one) that could
 * record it could make anyone a customer, whom direct marketing then reaches without consent (soft
 * opt-in), or end a contract and the consents tied to it.
 */
function relationshipsNeedTheirOwnScope(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  const fromBilling = { capture: { touchpoint: 'system', actor: { kind: 'system' } } };
  const softOptInByEmail = (subjectId: string) => api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=direct-marketing-customers-phone-email&channel=email`);
  const historyOf = async (subjectId: string) => (await api.call('GET', `/v1/subjects/${subjectId}/history`)).body.events.map((event: { type: string; metadata: { client: string } }) => [event.type, event.metadata.client]);

  it('refuses a StartRelationship from a key with commands:write alone, naming relationships:write, and records nothing', async () => {
    const subjectId = newSubjectId();
    const before = await api.store.headPosition();

    const byChannel = await api.command(commandJson.startRelationship(subjectId), { key: TEST_KEYS.channel, idempotencyKey: `channel-start-${subjectId}` });

    expect([byChannel.status, byChannel.body]).toEqual([403, { error: 'forbidden', message: 'StartRelationship needs the scope relationships:write' }]);
    expect(await api.store.headPosition()).toBe(before);
    expect(await historyOf(subjectId)).toEqual([]);
    expect((await softOptInByEmail(subjectId)).body).toMatchObject({ allowed: false, reason: 'no-relationship' });
  });

  it('refuses an EndRelationship from a key with commands:write alone, and the contract and its consents go on', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId, fromBilling), { key: TEST_KEYS.admin })).status).toBe(201);
    expect((await api.command(commandJson.giveConsent(subjectId), { key: TEST_KEYS.channel })).status).toBe(201);
    const before = await api.store.headPosition();

    const byChannel = await api.command(commandJson.endRelationship(subjectId), { key: TEST_KEYS.channel, idempotencyKey: `channel-end-${subjectId}` });

    expect([byChannel.status, byChannel.body]).toEqual([403, { error: 'forbidden', message: 'EndRelationship needs the scope relationships:write' }]);
    expect(await api.store.headPosition()).toBe(before);
    expect(await historyOf(subjectId)).toEqual([['RelationshipStarted', 'admin'], ['ConsentGiven', 'myproximus']]);
    const pickxAds = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=targeted-tv-advertising-pickx&channel=tv-screen`);
    expect(pickxAds.body).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  it('records the start and the end of a relationship from a key with relationships:write alone', async () => {
    const subjectId = newSubjectId();

    const started = await api.command(commandJson.startRelationship(subjectId, fromBilling), { key: TEST_KEYS.crm, idempotencyKey: `crm-start-${subjectId}` });
    expect(started.status).toBe(201);
    expect((await softOptInByEmail(subjectId)).body).toMatchObject({ allowed: true });
    const ended = await api.command(commandJson.endRelationship(subjectId, fromBilling), { key: TEST_KEYS.crm, idempotencyKey: `crm-end-${subjectId}` });
    expect(ended.status).toBe(201);

    expect(await historyOf(subjectId)).toEqual([['RelationshipStarted', 'crm'], ['RelationshipEnded', 'crm']]);
  });

  it("still records a channel's choices with commands:write, and keeps the CRM's key to relationships", async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId, fromBilling), { key: TEST_KEYS.crm })).status).toBe(201);

    expect((await api.command(commandJson.giveConsent(subjectId), { key: TEST_KEYS.channel })).status).toBe(201);
    const consentByCrm = await api.command(commandJson.giveConsent(subjectId), { key: TEST_KEYS.crm });

    expect([consentByCrm.status, consentByCrm.body]).toEqual([403, { error: 'forbidden', message: 'GiveConsent needs the scope commands:write' }]);
    expect(await historyOf(subjectId)).toEqual([['RelationshipStarted', 'crm'], ['ConsentGiven', 'myproximus']]);
  });
}

describe('relationship commands on SQLite', () => relationshipsNeedTheirOwnScope('sqlite'));
describeWithPostgres('relationship commands on PostgreSQL', () => relationshipsNeedTheirOwnScope('postgres'));

describe('with no keys configured', () => {
  it('generates an admin key, shows it once, keeps only its hash, and accepts it after a restart', async () => {
    const config = testConfig({ apiKeys: undefined });
    const told: string[] = [];
    const start = async () => {
      const app = await createConsentApi(config, { logger: false, announce: (message) => told.push(message) });
      await app.listen(0, '127.0.0.1');
      return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
    };
    try {
      const first = await start();
      const key = /(cl_[A-Za-z0-9_-]{43})/.exec(told[0])?.[1];
      expect(key).toBeDefined();
      const keysFile = join(config.dataDir, 'api-keys.json');
      expect(readFileSync(keysFile, 'utf8')).not.toContain(key);
      expect(readFileSync(keysFile, 'utf8')).toContain(createHash('sha256').update(key!).digest('hex'));
      expect(statSync(keysFile).mode & 0o077).toBe(0);
      const subjectId = newSubjectId();
      expect((await callApi(first.url, 'POST', '/v1/commands', { key, body: commandJson.startRelationship(subjectId) })).status).toBe(201);
      expect((await callApi(first.url, 'POST', '/v1/commands', { key, body: commandJson.eraseSubject(subjectId) })).status).toBe(201);
      await first.app.close();

      const second = await start();
      expect(told[1]).not.toContain(key);
      expect(told[1]).toContain(keysFile);
      expect((await callApi(second.url, 'GET', '/v1/purposes', { key })).status).toBe(200);
      expect((await callApi(second.url, 'GET', '/v1/purposes', { key: 'cl_guess' })).status).toBe(401);
      await second.app.close();
    } finally {
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });

  // Found in review (fifteenth session): API processes sharing DATA_DIR, started together, each
  // generated a key; all but the first failed to start with a bare EEXIST.
  it('gives processes sharing the data directory and started at one moment one admin key, which each accepts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'consent-ledger-keys-'));
    const compiled = join(REPOSITORY_ROOT, 'dist', 'apps', 'consent-api', 'src', 'api-keys', 'api-keys.js');
    // Each process loads the keys at the same instant, and says the key it was told (if any) and whether the file's key is accepted.
    const script = `
      const { ApiKeys } = require(${JSON.stringify(compiled)});
      const told = [];
      const keys = ApiKeys.generatedAdmin(${JSON.stringify(dataDir)}, (message) => told.push(message));
      const key = /(cl_[A-Za-z0-9_-]{43})/.exec(told.join(''))?.[1];
      process.stdout.write(JSON.stringify({ key, accepted: key === undefined || keys.clientFor(key) !== undefined }));`;
    try {
      const answers = await processesAtOnce(script, 6);
      expect(answers.map(({ code, err }) => ({ code, err }))).toEqual(answers.map(() => ({ code: 0, err: '' })));
      const told = answers.map(({ out }) => JSON.parse(out) as { key?: string; accepted: boolean });
      const generated = told.filter(({ key }) => key !== undefined);
      expect(generated).toHaveLength(1);
      const keys = ApiKeys.generatedAdmin(dataDir, () => undefined);
      expect(keys.clientFor(generated[0].key!)).toBeDefined();
      expect(readdirSync(dataDir)).toEqual(['api-keys.json']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // Found in security review: a keys file others could write was read as it stood, so a local user
  // who could write it (or replace it in a DATA_DIR left open before a start) added a key with every scope.
  it('refuses to start on a keys file other users can change, and so accepts no key they added to it', async () => {
    const config = testConfig({ apiKeys: undefined });
    const addedByAnotherUser = 'cl_added-by-another-user-of-this-machine-0000';
    const file = join(config.dataDir, 'api-keys.json');
    writeFileSync(file, JSON.stringify([{ client: 'admin', scopes: ['history:read'], keySha256: createHash('sha256').update(addedByAnotherUser).digest('hex') }]));
    chmodSync(file, 0o666);
    try {
      const outcome = await createConsentApi(config, { logger: false, announce: () => undefined }).then(
        async (app) => {
          try {
            await app.listen(0, '127.0.0.1');
            const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
            return `started, and answered ${(await callApi(url, 'GET', `/v1/subjects/${newSubjectId()}/history`, { key: addedByAnotherUser })).status} to the added key`;
          } finally {
            await app.close();
          }
        },
        (error: Error) => error.message,
      );
      expect(outcome).toBe(`${file} can be changed by other users (mode 666), and every key it lists is accepted: check its entries, then run chmod 600 on it`);
    } finally {
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });

  // personal-data:read and relationships:write came after keys files were first written: the admin
  // key must keep opening the export and recording relationships.
  it('gives the admin key generated by an earlier version every scope, those added since included', async () => {
    const config = testConfig({ apiKeys: undefined });
    const key = 'cl_generated-before-personal-data-read-existed-000000';
    const readerKey = 'cl_a-reader-an-operator-added-to-the-file-00000';
    const scopesThen = ['commands:write', 'decisions:read', 'history:read', 'objections:review', 'subjects:erase', 'rights:manage'];
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    writeFileSync(
      join(config.dataDir, 'api-keys.json'),
      JSON.stringify([
        { client: 'admin', scopes: scopesThen, keySha256: digest(key) },
        { client: 'campaign-tool', scopes: ['decisions:read'], keySha256: digest(readerKey) },
      ]),
    );
    const app = await createConsentApi(config, { logger: false, announce: () => undefined });
    try {
      await app.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const subjectId = newSubjectId();
      expect((await callApi(url, 'POST', '/v1/commands', { key, body: commandJson.startRelationship(newSubjectId()) })).status).toBe(201);
      const consent = commandJson.giveConsent(subjectId, { capture: { evidenceRef: 'call-2024-0042' } });
      expect((await callApi(url, 'POST', '/v1/commands', { key, body: consent })).status).toBe(201);
      const exported = await callApi(url, 'GET', `/v1/subjects/${subjectId}/export`, { key });
      expect(exported.body).toMatchObject({ personalData: 'readable', choices: [{ evidence: { reference: 'call-2024-0042' } }] });
      // Found in review: every entry of the file got every scope, an operator's reader too.
      expect((await callApi(url, 'POST', '/v1/commands', { key: readerKey, body: commandJson.eraseSubject(subjectId) })).status).toBe(403);
    } finally {
      await app.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    }
  });
});
