import { iban, nationalRegisterNumber, withDotsAndDash } from '../../../../libs/ledger-commands/src/testing/identity-numbers';
import { consentTopics } from '../kafka/topics';
import { refusedCorrelationId, refusedReplyAddress } from './decision-server';

const topics = consentTopics('prod.');

describe('where the answer to a decision request may go', () => {
  it('goes to the reply topic of the deployment, on the partition the request names or the one the producer picks', () => {
    expect(refusedReplyAddress({ topic: 'prod.consent.decision.reply', partition: null }, topics.decisionReplies)).toBeUndefined();
    expect(refusedReplyAddress({ topic: 'prod.consent.decision.reply', partition: '0' }, topics.decisionReplies)).toBeUndefined();
    expect(refusedReplyAddress({ topic: 'prod.consent.decision.reply', partition: '11' }, topics.decisionReplies)).toBeUndefined();
  });

  it('does not go to a topic of the projector, another deployment or anyone else', () => {
    for (const topic of [topics.events, topics.state, topics.commandResults, topics.decisionRequests, 'consent.decision.reply', 'test.consent.decision.reply', 'prod.no-such-topic']) {
      expect(refusedReplyAddress({ topic, partition: null }, topics.decisionReplies)).toBe(`reply topic "${topic}" is not prod.consent.decision.reply`);
    }
  });

  it('does not go to a topic named by a header that is not text', () => {
    expect(refusedReplyAddress({ topic: Buffer.from([0, 1]), partition: null }, topics.decisionReplies)).toBe('reply topic of binary content is not prod.consent.decision.reply');
    expect(refusedReplyAddress({ topic: ['prod.consent.decision.reply'], partition: null }, topics.decisionReplies)).toBe('reply topic of type object is not prod.consent.decision.reply');
  });

  it('does not go to a partition that is not a partition number', () => {
    for (const partition of ['-1', '1.5', '01', '1e3', 'first', '', '9999999999']) {
      expect(refusedReplyAddress({ topic: topics.decisionReplies, partition }, topics.decisionReplies)).toBe(`reply partition ${JSON.stringify(partition)} is not a partition number`);
    }
    expect(refusedReplyAddress({ topic: topics.decisionReplies, partition: { partition: 1 } }, topics.decisionReplies)).toBe('reply partition of type object is not a partition number');
  });

  // The refusal is logged, and an operator's logs are no place for a person's contact details.
  it('does not repeat a reply topic or partition holding an e-mail address or phone number', () => {
    for (const topic of ['replies.jan.peeters@example.be', 'replies-0475123456']) {
      expect(refusedReplyAddress({ topic, partition: null }, topics.decisionReplies)).toBe(
        'reply topic holding an e-mail address or phone number (not repeated here) is not prod.consent.decision.reply',
      );
    }
    expect(refusedReplyAddress({ topic: topics.decisionReplies, partition: '+32475123456' }, topics.decisionReplies)).toBe(
      'reply partition holding an e-mail address or phone number (not repeated here) is not a partition number',
    );
  });

  // Found in review on 2026-11-30: a topic named after a national register number was logged as named.
  it('does not repeat a reply topic holding a national register number or an IBAN', () => {
    for (const topic of [`replies.${withDotsAndDash(nationalRegisterNumber({ born: '1985-07-30', serial: 33 }))}`, `replies-${iban('BE', '539007547034')}`]) {
      expect(refusedReplyAddress({ topic, partition: null }, topics.decisionReplies)).toBe(
        'reply topic holding a national register number or bank account number (not repeated here) is not prod.consent.decision.reply',
      );
    }
  });

  it('names a long topic by its first 249 characters only', () => {
    expect(refusedReplyAddress({ topic: 'x'.repeat(10_000), partition: null }, topics.decisionReplies)).toBe(`reply topic "${'x'.repeat(249)}…" is not prod.consent.decision.reply`);
  });

  // Found in review: a 150 KB topic name was screened whole, in time growing with the square of its length.
  it('names a 150 KB topic by its first 249 characters, within milliseconds', () => {
    const started = Date.now();
    expect(refusedReplyAddress({ topic: 'a'.repeat(150_000), partition: null }, topics.decisionReplies)).toBe(`reply topic "${'a'.repeat(249)}…" is not prod.consent.decision.reply`);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('does not repeat an e-mail address cut by the end of what is named', () => {
    const topic = `${'x'.repeat(240)}.jan.peeters@example.be`;
    expect(refusedReplyAddress({ topic, partition: null }, topics.decisionReplies)).toBe(
      'reply topic holding an e-mail address or phone number (not repeated here) is not prod.consent.decision.reply',
    );
  });
});

describe('the correlation id an answer would carry back', () => {
  it('is refused when longer than the command topic takes, 200 characters, unread', () => {
    const started = Date.now();
    expect(refusedCorrelationId('a'.repeat(150_000))).toBe('its correlation id is longer than 200 characters');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('is taken up to 200 characters, as ClientKafka\'s UUIDs are', () => {
    expect(refusedCorrelationId('a'.repeat(200))).toBeUndefined();
    expect(refusedCorrelationId('0f8fad5b-d9cb-469f-a165-70867728950e')).toBeUndefined();
  });
});
