import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consentTopics } from '../../apps/projector/src/kafka/topics';
import { DecisionAsker } from '../../apps/projector/src/testing/decision-asker';
import { eventually } from '../../apps/projector/src/testing/topic-reader';
import { describeWithKafka, kafkaTestBrokers, uniqueName } from '../support/services';
import { buildProjector, ProjectorProcess } from './support/projector-process';

/**
 * A `consent.decision` question names the topic its answer goes to (`kafka_replyTopic`). The
 * compiled projector, as `npm run start:projector` runs it, is asked to answer on topics that are
 * not the reply topic of its deployment: it must answer none of them, and go on answering.
 */
describeWithKafka('the compiled projector asked to answer on a topic other than its reply topic', () => {
  const prefix = `${uniqueName('cl_test')}.`;
  const topics = consentTopics(prefix);
  let projector: ProjectorProcess;
  let exitCode: number | null | undefined;
  let asker: DecisionAsker;

  beforeAll(async () => {
    await buildProjector();
    projector = new ProjectorProcess({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'consent-projector-')),
      KAFKA_BROKERS: kafkaTestBrokers().join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '2',
      PROJECTOR_INSTANCE_ID: uniqueName('projector'),
    });
    void projector.exited.then((code) => (exitCode = code));
    await projector.running();
    asker = await DecisionAsker.open(kafkaTestBrokers(), topics);
    await asker.untilAnswering();
  }, 300_000);

  afterAll(async () => {
    await asker?.close();
    await projector?.stop();
  });

  /** Waits for the warning about the refused reply topic, or for the process to end. */
  const refusesToAnswerOn = async (replyTopic: string) => {
    await eventually(() => exitCode !== undefined || projector.output.join('').includes(`reply topic "${replyTopic}"`), `a warning naming ${replyTopic}`);
    if (exitCode !== undefined) throw new Error(`the projector exited (${exitCode}):\n${projector.output.join('').slice(-3_000)}`);
  };
  const keepsAnswering = async () => expect((await asker.answeredOnTheReplyTopic()).value).toMatchObject({ allowed: false, reason: 'no-relationship' });

  it('puts nothing on its events topic when a question names it, and keeps answering', async () => {
    await asker.ask(topics.events);
    await keepsAnswering();
    expect(await asker.messagesOn(topics.events)).toBe(0);
    await refusesToAnswerOn(topics.events);
  });

  it('keeps running and answering after a question naming a topic that does not exist', async () => {
    await asker.ask(`${prefix}no-such-reply-topic`);
    await refusesToAnswerOn(`${prefix}no-such-reply-topic`);
    await keepsAnswering();
  });

  it('keeps running and answering after a question naming its compacted state topic', async () => {
    await asker.ask(topics.state);
    await refusesToAnswerOn(topics.state);
    await keepsAnswering();
    expect(await asker.messagesOn(topics.state)).toBe(0);
  });
});
