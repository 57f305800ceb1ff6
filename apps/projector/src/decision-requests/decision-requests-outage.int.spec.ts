import type { INestMicroservice } from '@nestjs/common';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { describeWithKafka } from '../../../../test/support/services';
import type { ConsentTopics } from '../kafka/topics';
import { createProjector } from '../projector';
import { ProjectorResources } from '../projector-resources';
import { DecisionAsker } from '../testing/decision-asker';
import { testProjectorConfig } from '../testing/test-config';

/** DATABASE_ANSWER_TIMEOUT_SECONDS, longer than the decision consumers' session timeout of 10 s, as the setting allows (up to 600). */
const ANSWER_TIMEOUT_MS = 12_000;
/** Room for the test's own work on a busy two-core machine. */
const MARGIN_MS = 3_000;

const describeWithKafkaAndPostgres = process.env.CL_TEST_POSTGRES === 'up' ? describeWithKafka : describe.skip;

describeWithKafkaAndPostgres('consent.decision while PostgreSQL does not answer, on connections it leaves open', () => {
  let database: PostgresBehindProxy;
  let app: INestMicroservice;
  let topics: ConsentTopics;
  let asker: DecisionAsker;

  beforeAll(async () => {
    database = await postgresBehindProxy('decision_outage');
    const config = testProjectorConfig({ eventStore: 'postgres', databaseUrl: database.url, databaseAnswerTimeoutMs: ANSWER_TIMEOUT_MS });
    app = await createProjector(config, { logger: false });
    await app.listen();
    topics = app.get(ProjectorResources).topics;
    asker = await DecisionAsker.open(config.kafkaBrokers, topics);
    // Answered from the store: its pool now holds an open connection, which the cut leaves open.
    await asker.untilAnswering();
  }, 60_000);

  afterAll(async () => {
    await asker?.close();
    await database?.proxy.restore();
    await app?.close();
    await database?.close();
  });

  // Found in review: the answer came after the timeout, but the projector's consumer had sent no
  // heartbeat meanwhile and was expelled from its group: every partition stopped for a
  // rebalance, and the question was delivered and answered again.
  it('answers a question unavailable once its read got no answer for DATABASE_ANSWER_TIMEOUT_SECONDS, and only once, though that is longer than the session timeout', async () => {
    database.proxy.freeze();
    const askedAt = Date.now();
    const question = await asker.ask(topics.decisionReplies);
    // Taken after the first on the same partition: the first one, delivered again, would be answered before it.
    const next = await asker.ask(topics.decisionReplies);

    const answer = await asker.answerTo(question, ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(Date.now() - askedAt).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(answer.value).toEqual({ error: 'unavailable', message: 'the ledger storage is unavailable; ask again later' });

    expect((await asker.answerTo(next, 3 * ANSWER_TIMEOUT_MS)).value).toMatchObject({ error: 'unavailable' });
    expect(asker.answersTo(question)).toHaveLength(1);
  }, 90_000);
});
