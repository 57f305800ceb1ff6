import { randomUUID } from 'node:crypto';
import { eventIdFor } from '../../../../libs/ledger-commands/src/event-ids';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { describeWithPostgres } from '../../../../test/support/services';
import { commandJson, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

/** DATABASE_ANSWER_TIMEOUT_SECONDS, short for the test. */
const ANSWER_TIMEOUT_MS = 1000;
/**
 * A request's own statement, ended at the answer timeout, after one of another request's ahead of
 * it in a queue they share (the group commit, the coalesced stream reads, the batched idempotency
 * records); in the group commit sometimes a second one, as its second transaction waits for the
 * first while fewer appends are queued than that one holds. With room for the test's own work on
 * a busy two-core machine.
 */
const ANSWERED_WITHIN_MS = 3 * ANSWER_TIMEOUT_MS + 1500;
/** TCP's retransmission backoff after a long cut (a minute or more): longer than these tests. */
const RETRANSMISSION_BACKOFF_MS = 120_000;
/** How long the test waits for an answer before taking it as one that never comes. */
const NO_ANSWER_AFTER_MS = 15_000;

interface Answer {
  readonly status: number | 'no answer';
  readonly body: any;
  readonly retryAfter: string | null;
  readonly replayed: string | null;
  readonly sentAt: number;
  readonly answeredAt: number;
}

// Found in SRE review: in a network cut between the API and PostgreSQL that leaves the TCP
// connections open (packets dropped, no reset), every statement already sent waited for as long
// as the cut lasted, and after it healed until TCP's retransmission got through, a minute or more.
// Appends share a group commit (two transactions at a time), and claims and stream reads share
// statements too, so one such statement held every command of the process, and callers' retries
// piled up behind it, while /health already told load balancers to drain.
describeWithPostgres('commands and decisions when PostgreSQL stops answering on open connections', () => {
  let database: PostgresBehindProxy;
  let api: TestApi;
  beforeAll(async () => {
    database = await postgresBehindProxy('cl_answer');
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: database.url, projector: 'off', databaseAnswerTimeoutMs: ANSWER_TIMEOUT_MS });
  });
  afterEach(() => database.proxy.restore());
  afterAll(async () => {
    await api.close();
    await database.close();
  });

  const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const sentAt = Date.now();
    try {
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TEST_KEYS.admin}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(NO_ANSWER_AFTER_MS),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text === '' ? undefined : JSON.parse(text),
        retryAfter: response.headers.get('retry-after'),
        replayed: response.headers.get('idempotency-replayed'),
        sentAt,
        answeredAt: Date.now(),
      };
    } catch {
      return { status: 'no answer', body: undefined, retryAfter: null, replayed: null, sentAt, answeredAt: Date.now() };
    }
  };
  const command = (json: unknown, idempotencyKey = `key-${randomUUID()}`) => call('POST', '/v1/commands', json, { 'idempotency-key': idempotencyKey });
  const startRelationships = async (count: number) => {
    const subjectIds = Array.from({ length: count }, () => newSubjectId());
    for (const answer of await Promise.all(subjectIds.map((subjectId) => command(commandJson.startRelationship(subjectId))))) expect(answer.status).toBe(201);
    return subjectIds;
  };
  const refusedToRetry = { status: 503, retryAfter: expect.stringMatching(/^\d+$/) };

  it('answers every command in flight 503 with Retry-After within a few answer timeouts once the database stops answering', async () => {
    const subjectIds = await startRelationships(6);
    let frozenAt: number | undefined;
    // Each keeps commands coming until one it sent into the cut is answered.
    const channel = async (subjectId: string) => {
      const answers: Answer[] = [];
      for (let round = 0; ; round += 1) {
        const answer = await command(round % 2 === 0 ? commandJson.restrictChannel(subjectId) : commandJson.liftChannelRestriction(subjectId));
        answers.push(answer);
        if (frozenAt !== undefined && answer.sentAt >= frozenAt) return answers;
      }
    };
    const channels = subjectIds.map(channel);
    await new Promise((resolve) => setTimeout(resolve, 300));
    database.proxy.freeze();
    frozenAt = Date.now();

    const answeredAfterTheCut = (await Promise.all(channels)).flat().filter((answer) => answer.answeredAt >= frozenAt!);
    for (const answer of answeredAfterTheCut) {
      expect(answer).toMatchObject(answer.status === 201 ? { status: 201 } : refusedToRetry);
      expect(answer.answeredAt - Math.max(answer.sentAt, frozenAt)).toBeLessThan(ANSWERED_WITHIN_MS);
    }
    expect(answeredAfterTheCut.filter((answer) => answer.status === 503).length).toBeGreaterThanOrEqual(subjectIds.length);
  }, 60_000);

  it('answers decisions 503 with Retry-After within a few answer timeouts once the database stops answering', async () => {
    const [subjectId] = await startRelationships(1);
    database.proxy.freeze();

    const answers = await Promise.all([
      call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`, undefined),
      call('POST', '/v1/decisions', { purpose: 'newsletter-customers', channel: 'email', subjectIds: [subjectId] }),
    ]);
    for (const answer of answers) {
      expect(answer).toMatchObject(refusedToRetry);
      expect(answer.answeredAt - answer.sentAt).toBeLessThan(ANSWERED_WITHIN_MS);
    }
  }, 60_000);

  it('records new commands at once when the network heals, never on a connection cut off, which waits for its retransmission', async () => {
    const subjectIds = await startRelationships(4);
    database.proxy.freeze();
    const cutOff = await Promise.all(subjectIds.map((subjectId) => command(commandJson.restrictChannel(subjectId))));
    for (const answer of cutOff) expect(answer).toMatchObject(refusedToRetry);

    database.proxy.heal(RETRANSMISSION_BACKOFF_MS);
    // More rounds than any pool has connections: one given back after its statement timed out
    // would be handed out again, and the command on it would wait behind the lost statement.
    const afterwards = [...subjectIds.map((subjectId) => commandJson.restrictChannel(subjectId)), ...Array.from({ length: 8 }, () => commandJson.startRelationship(newSubjectId()))];
    for (const json of afterwards) {
      const answer = await command(json);
      expect(answer.status).toBe(201);
      expect(answer.answeredAt - answer.sentAt).toBeLessThan(ANSWER_TIMEOUT_MS);
    }
  }, 60_000);

  it('answers a command whose append PostgreSQL committed, but whose answer was lost, 503 saying it may be recorded, and its retry 201 with the event ids of its key, recorded once', async () => {
    const [subjectId] = await startRelationships(1);
    const idempotencyKey = `lost-answer-${randomUUID()}`;
    // The append in one statement, the heads being known: PostgreSQL commits it, its answer is lost.
    const answerLost = database.proxy.loseAnswersAfter('event-store-write-with-known-heads');

    const first = await command(commandJson.restrictChannel(subjectId), idempotencyKey);
    await answerLost;
    expect(first).toMatchObject({ ...refusedToRetry, body: { error: 'unavailable', message: expect.stringContaining('may have been recorded') } });
    expect(first.answeredAt - first.sentAt).toBeLessThan(ANSWERED_WITHIN_MS);

    const eventId = eventIdFor({ client: 'admin', idempotencyKey }, subjectId, 0);
    const retry = await command(commandJson.restrictChannel(subjectId), idempotencyKey);
    expect([retry.status, retry.replayed]).toEqual([201, 'true']);
    expect(retry.body).toMatchObject({ subjectId, events: [{ id: eventId, type: 'ChannelRestricted', revision: 1 }] });
    const again = await command(commandJson.restrictChannel(subjectId), idempotencyKey);
    expect([again.status, again.body]).toEqual([201, retry.body]);

    const recorded = (await api.store.readAll()).filter((event) => event.streamName.endsWith(subjectId));
    expect(recorded.map((event) => [event.type, event.eventId])).toEqual([
      ['RelationshipStarted', expect.any(String)],
      ['ChannelRestricted', eventId],
    ]);
  }, 60_000);
});
