import { Client } from 'pg';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';
import { describeWithPostgres, postgresTestUrl, withClient } from '../../../../test/support/services';
import { MovableClock } from '../testing/movable-clock';
import { commandJson, everyPage, newSubjectId, startTestApi, type TestApi } from '../testing/test-api';

/** A consent purpose that needs no customer relationship (website visitors too). */
const PERSONALISATION = 'website-personalisation-login-cookie';

describe('proof retention in a running service', () => {
  let api: TestApi;
  const clock = new MovableClock();
  beforeAll(async () => {
    api = await startTestApi('sqlite', {}, { clock });
  });
  afterAll(() => api.close());

  /** Records as the service did back then: a record is kept five years after it was last received too. */
  async function receivedBack(at: string, record: () => Promise<void>): Promise<void> {
    clock.moveTo(at);
    try {
      await record();
    } finally {
      clock.moveTo(new Date().toISOString());
    }
  }

  it('stops answering from a removed record at once, and sees the subject again when it comes back', async () => {
    const subjectId = newSubjectId('long-gone');
    // Paperwork from long ago: a consent given in 2010 and withdrawn in 2012, proof kept five years.
    await receivedBack('2012-03-01T10:00:00Z', async () => {
      expect((await api.command(commandJson.giveConsent(subjectId, { purpose: PERSONALISATION, capture: { occurredAt: '2010-03-01T10:00:00Z' } }))).status).toBe(201);
      expect((await api.command(commandJson.withdrawConsent(subjectId, { purpose: PERSONALISATION, capture: { occurredAt: '2012-03-01T10:00:00Z' } }))).status).toBe(201);
    });
    const in2011 = () => api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${PERSONALISATION}&at=2011-01-01T00:00:00Z`);
    expect((await in2011()).body).toMatchObject({ allowed: true, reason: 'consent-active' });

    const run = await api.call('POST', '/v1/proof-retention/runs', { body: {} });
    expect(run.body.removed).toEqual([expect.objectContaining({ subjectId, eventsRemoved: 2 })]);
    expect((await in2011()).body).toMatchObject({ allowed: false, reason: 'no-consent', basedOn: [] });

    expect((await api.command(commandJson.giveConsent(subjectId, { purpose: PERSONALISATION }))).status).toBe(201);
    const now = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${PERSONALISATION}`);
    expect(now.body).toMatchObject({ allowed: true, reason: 'consent-active', basedOn: [{ revision: 0 }] });
  });

  it('keeps the evidence of an erased subject who comes back once the record was removed', async () => {
    // An erasure takes effect when it is recorded: this one was, in 2012.
    const clock = new MovableClock(Date.parse('2012-03-01T10:00:00Z'));
    const api = await startTestApi('sqlite', {}, { clock });
    try {
      await returningAfterRemoval(api, clock);
    } finally {
      await api.close();
    }
  });

  async function returningAfterRemoval(api: TestApi, clock: MovableClock) {
    const subjectId = newSubjectId('erased-long-ago');
    const longAgo = (occurredAt: string) => ({ purpose: PERSONALISATION, capture: { occurredAt, evidenceRef: 'web-session-2010-0042' } });
    expect((await api.command(commandJson.giveConsent(subjectId, longAgo('2010-03-01T10:00:00Z')))).status).toBe(201);
    expect((await api.command(commandJson.eraseSubject(subjectId))).status).toBe(201);
    clock.moveTo(new Date().toISOString());

    const run = await api.call('POST', '/v1/proof-retention/runs', { body: {} });
    expect(run.body.removed).toEqual([expect.objectContaining({ subjectId, eventsRemoved: 2 })]);

    const back = await api.command(commandJson.giveConsent(subjectId, { purpose: PERSONALISATION, capture: { evidenceRef: 'web-session-2026-0001' } }));
    expect(back.status).toBe(201);
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`);
    expect(exported.body).toMatchObject({ personalData: 'readable', choices: [{ evidence: { reference: 'web-session-2026-0001' } }] });
  }

  const newsletterSignUpIn2010 = async (subjectId: string) => {
    let answer!: Awaited<ReturnType<TestApi['command']>>;
    await receivedBack('2010-01-01T10:00:00Z', async () => {
      answer = await api.command(
        commandJson.giveConsent(subjectId, {
          purpose: 'newsletter-prospects',
          contact: { email: 'old@example.be' },
          capture: { occurredAt: '2010-01-01T10:00:00Z', touchpoint: 'web-form', actor: { kind: 'subject' } },
        }),
      );
    });
    return answer;
  };
  const removeWhatIsDue = async () => (await api.call('POST', '/v1/proof-retention/runs', { body: {} })).body;
  const exportOf = async (subjectId: string) => (await api.call('GET', `/v1/subjects/${subjectId}/export`)).body;

  // Found in review: the job removed a subject whose access request was still to be answered.
  it('keeps every part of a record while a rights request about the subject is open, and removes it once the request is answered', async () => {
    const subjectId = newSubjectId('asks-for-access');
    expect((await newsletterSignUpIn2010(subjectId)).status).toBe(201);
    const receivedAt = new Date(Date.now() - 86_400_000).toISOString();
    const request = await api.call('POST', '/v1/rights-requests', { body: { subjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt } });
    expect(request.status).toBe(201);

    expect((await removeWhatIsDue()).removed).not.toContainEqual(expect.objectContaining({ subjectId }));
    const whileOpen = await exportOf(subjectId);
    expect(whileOpen).toMatchObject({ personalData: 'readable', choices: [{ evidence: { contact: { email: 'old@example.be' } } }] });
    expect(whileOpen.proofRetention).toMatchObject({ removableFrom: null, isRemovable: false });
    expect(whileOpen.proofRetention.holds).toContainEqual(expect.objectContaining({ reason: 'rights-request-open', until: null, requestId: request.body.requestId }));

    expect((await api.call('POST', `/v1/rights-requests/${request.body.requestId}/complete`, { body: {} })).status).toBe(200);
    expect((await removeWhatIsDue()).removed).toContainEqual(expect.objectContaining({ subjectId, eventsRemoved: 1 }));
  });

  it('says the record was removed, not that no personal data was ever kept, once the job removed it', async () => {
    const subjectId = newSubjectId('removed');
    expect((await newsletterSignUpIn2010(subjectId)).status).toBe(201);
    const run = await removeWhatIsDue();
    expect(run.removed).toContainEqual(expect.objectContaining({ subjectId, eventsRemoved: 1 }));

    const exported = await exportOf(subjectId);
    expect(exported).toMatchObject({
      personalData: 'removed',
      removals: [{ runId: run.runId, removedAt: run.startedAt, removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 1 }],
      choices: [],
    });
    expect(JSON.stringify(exported)).not.toContain('old@example.be');
  });

  // Found in review: the history of a removed record was `events: []`, as for a subject never heard of.
  it("says in the subject's history that its record was removed, which a subject never heard of does not", async () => {
    const subjectId = newSubjectId('removed');
    expect((await newsletterSignUpIn2010(subjectId)).status).toBe(201);
    const run = await removeWhatIsDue();

    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`);
    expect(history.status).toBe(200);
    expect(history.body).toEqual({
      subjectId,
      events: [],
      removals: [{ runId: run.runId, removedAt: run.startedAt, removableFrom: '2018-01-01T10:00:00.000Z', eventsRemoved: 1 }],
      // A sanctioned removal leaves the chain intact.
      integrity: { streamName: ledgerStreamOf(subjectId), intact: true, eventsChecked: 0 },
    });
    const neverHeardOf = newSubjectId('unknown');
    expect((await api.call('GET', `/v1/subjects/${neverHeardOf}/history`)).body).toEqual({
      subjectId: neverHeardOf,
      events: [],
      integrity: { streamName: ledgerStreamOf(neverHeardOf), intact: true, eventsChecked: 0 },
    });
  });
});

describeWithPostgres('proof retention beside the commands of a running service, on PostgreSQL', () => {
  let api: TestApi;
  let otherSession: Client;
  const clock = new MovableClock();
  beforeEach(async () => {
    api = await startTestApi('postgres', {}, { clock });
    otherSession = new Client({ connectionString: api.config.databaseUrl });
    await otherSession.connect();
  });
  afterEach(async () => {
    await otherSession.query('ROLLBACK').catch(() => undefined);
    await otherSession.end();
    await api.close();
  });

  const newsletterSignUp = (subjectId: string, email: string, occurredAt?: string) =>
    api.command(
      commandJson.giveConsent(subjectId, {
        purpose: 'newsletter-prospects',
        contact: { email },
        capture: { ...(occurredAt && { occurredAt }), touchpoint: 'web-form', actor: { kind: 'subject' } },
      }),
    );

  // Found in review: the run destroys a batch of keys at once, and destroys waiting for their locks
  // held every connection of the key store (4), so a command sealing contact details waited for
  // one and was answered 503 after 5 s, for as long as the run waited.
  it('answers a command carrying contact details at once while the run waits for the locks of the keys it destroys', async () => {
    const signedUpLongAgo = Array.from({ length: 8 }, () => newSubjectId('signed-up-in-2010'));
    clock.moveTo('2010-01-01T10:00:00Z');
    for (const subjectId of signedUpLongAgo) expect((await newsletterSignUp(subjectId, 'old@example.be', '2010-01-01T10:00:00Z')).status).toBe(201);
    clock.moveTo(new Date().toISOString());
    await otherSession.query('BEGIN');
    await otherSession.query('SELECT 1 FROM personal_data_keys WHERE subject_id = ANY($1) FOR UPDATE', [signedUpLongAgo]);
    const run = api.call('POST', '/v1/proof-retention/runs', { body: {} });
    await someSessionWaitsFor(otherSession);

    const asked = Date.now();
    const answer = await newsletterSignUp(newSubjectId('signs-up-now'), 'new@example.be');
    const answeredInMs = Date.now() - asked;
    // The run is let go before anything is checked: an API closed with a request in flight waits for its connection.
    await otherSession.query('ROLLBACK');
    const { body: completed } = await run;

    expect({ status: answer.status, answeredWithinASecond: answeredInMs < 1000 }).toEqual({ status: 201, answeredWithinASecond: true });
    expect(completed.removed.map((removed: { subjectId: string }) => removed.subjectId).sort()).toEqual([...signedUpLongAgo].sort());
  });
});

/** Resolves once some session waits for a lock `holder` holds. */
async function someSessionWaitsFor(holder: Client): Promise<void> {
  const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
  for (;;) {
    const waiting = await withClient(postgresTestUrl(), (client) => client.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]));
    if (waiting.rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A run is recorded every day, each listing every record it removed: one answer holding every run
// grew without bound.
describe('the runs of the proof-retention job, listed a page at a time', () => {
  let api: TestApi;
  beforeAll(async () => (api = await startTestApi('sqlite')));
  afterAll(() => api.close());

  const run = async () => (await api.call('POST', '/v1/proof-retention/runs', { body: { dryRun: true } })).body.runId as string;

  /** Follows `next` from the first page to the last, returning the pages' run ids. */
  const everyRunPage = (query: string, between?: (pagesRead: number) => Promise<void>) =>
    everyPage<{ runs: { runId: string }[]; next: string | null }>(api, '/v1/proof-retention/runs', query, (page) => page.runs.map((recorded) => recorded.runId), between);

  it('gives every run once, oldest first, over as many pages as the limit makes, and a run recorded between pages once', async () => {
    const recorded = [];
    for (let count = 0; count < 5; count += 1) recorded.push(await run());
    let lateRun = '';

    const pages = await everyRunPage('limit=2', async (pagesRead) => {
      if (pagesRead === 1) lateRun = await run();
    });

    expect(pages).toEqual([recorded.slice(0, 2), recorded.slice(2, 4), [recorded[4], lateRun]]);
  });

  it('holds 10 runs a page when no limit is asked', async () => {
    for (let count = (await everyRunPage('limit=100')).flat().length; count < 11; count += 1) await run();
    const recorded = (await everyRunPage('limit=100')).flat();

    expect((await everyRunPage('')).map((page) => page.length)).toEqual([10, recorded.length - 10]);
  });

  it('refuses a limit over 100 or a cursor it did not give, naming the parameter, and runs nothing', async () => {
    const ofRequests = (await startedList(api)).next;
    const before = await api.store.headPosition();
    for (const [query, field, message] of [
      ['limit=101', 'limit', /must be a whole number from 1 to 100/],
      ['limit=0', 'limit', /must be a whole number from 1 to 100/],
      ['after=%7B%7D', 'after', /is not a cursor this list gave/],
      [`after=${ofRequests}`, 'after', /continues another list/],
    ] as const) {
      expect({ query, answer: await api.call('GET', `/v1/proof-retention/runs?${query}`) }).toMatchObject({
        query,
        answer: { status: 400, body: { error: 'validation-failed', details: [{ field, message: expect.stringMatching(message) }] } },
      });
    }
    expect(await api.store.headPosition()).toBe(before);
  });

  it('refuses a dryRun other than true or false, null included, naming the field in the words of every other, and runs nothing', async () => {
    const before = await api.store.headPosition();
    for (const dryRun of [null, 'yes', 1]) {
      expect({ dryRun, answer: await api.call('POST', '/v1/proof-retention/runs', { body: { dryRun } }) }).toMatchObject({
        dryRun,
        answer: { status: 400, body: { error: 'validation-failed', details: [{ field: 'dryRun', message: 'must be true or false' }] } },
      });
    }
    expect(await api.store.headPosition()).toBe(before);
  });
});

/** A cursor of the list of rights requests: two requests, a page of one. */
async function startedList(api: TestApi): Promise<{ next: string }> {
  const subjectId = newSubjectId('pages');
  for (const receivedAt of ['2026-01-01T10:00:00Z', '2026-01-02T10:00:00Z']) {
    await api.call('POST', '/v1/rights-requests', { body: { subjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt } });
  }
  return (await api.call('GET', `/v1/rights-requests?subjectId=${subjectId}&limit=1`)).body;
}
