import type { KafkaMessage } from 'kafkajs';
import { MAX_COMMAND_BYTES, readCommandMessage } from './command-message';

const origin = { topic: 'consent.commands.v1', partition: 2, offset: '41' };
const message = (overrides: Partial<KafkaMessage>): KafkaMessage =>
  ({ key: Buffer.from('cust-1'), value: Buffer.from('{"type":"StartRelationship"}'), headers: { 'idempotency-key': Buffer.from('key-1') }, offset: '41', timestamp: '0', attributes: 0, ...overrides }) as KafkaMessage;

describe('reading a command message', () => {
  it('takes the idempotency key and the client from their headers', () => {
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-h'), client: Buffer.from('tv-menu') } }), origin)).toMatchObject({
      kind: 'command',
      idempotencyKey: 'key-h',
      client: 'tv-menu',
      json: { type: 'StartRelationship' },
    });
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-h') } }), origin)).toMatchObject({ kind: 'command', client: 'kafka' });
  });

  // The message key is the subject id (one subject's commands in order): as an idempotency key it
  // would answer every later command of the subject with the first one's result, or a 409.
  it('does not take the message key for an idempotency key', () => {
    expect(readCommandMessage(message({ key: Buffer.from('cust-4711'), headers: {} }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'unkeyed:2:41',
      problems: [{ field: 'idempotency-key', message: expect.stringContaining('header') }],
    });
  });

  // Found in review: of two idempotency-key or client headers the first was taken silently, while
  // a proxy or log reader checking the topic may take the last.
  it('treats a header sent twice as poison, naming it, as it refuses a field sent twice', () => {
    const twice = (name: string) => ({ 'idempotency-key': Buffer.from('key-1'), [name]: [Buffer.from('first'), Buffer.from('second')] });
    expect(readCommandMessage(message({ headers: twice('idempotency-key') }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'unkeyed:2:41',
      problems: [{ field: 'idempotency-key', message: expect.stringMatching(/^is sent more than once/) }],
    });
    expect(readCommandMessage(message({ headers: twice('client') }), origin)).toMatchObject({ kind: 'poison', resultKey: 'key-1', problems: [{ field: 'client' }] });
    expect(readCommandMessage(message({ headers: twice('correlation-id') }), origin)).toMatchObject({ kind: 'poison', resultKey: 'key-1', problems: [{ field: 'correlation-id' }] });
  });

  // Found by a channel team (h10): a client name is recorded in the events' metadata and copied
  // into the result, so it is screened as an idempotency key is; a system name holds no such number.
  it('treats a client header holding a phone number, a national register number or an IBAN as poison, without naming that client', () => {
    for (const client of ['0475123456', 'tv-32475123456', '85.07.30-033.28', 'BE68539007547034']) {
      const read = readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-1'), client: Buffer.from(client) } }), origin);
      expect(read).toMatchObject({ kind: 'poison', resultKey: 'key-1', problems: [{ field: 'client', message: expect.stringMatching(/^must not contain/) }] });
      expect(read).not.toHaveProperty('client');
    }
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-1'), client: Buffer.from('crm-2024.3') } }), origin)).toMatchObject({ kind: 'command', client: 'crm-2024.3' });
  });

  it('says that header names are lower case when the key came as Idempotency-Key', () => {
    expect(readCommandMessage(message({ headers: { 'Idempotency-Key': Buffer.from('key-1') } }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'unkeyed:2:41',
      problems: [{ field: 'idempotency-key', message: expect.stringContaining('lower case') }],
    });
  });

  it('treats a command with a field sent twice as poison, naming the field, as the HTTP API refuses it', () => {
    const twice = '{"type":"RestrictChannel","subjectId":"cust-1","channel":"sms","capture":{"touchpoint":"sms-stop","actor":{"kind":"subject"}},"subjectId":"cust-2"}';
    expect(readCommandMessage(message({ value: Buffer.from(twice) }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'key-1',
      problems: [{ field: 'subjectId', message: expect.stringMatching(/^is sent twice/) }],
    });
  });

  // As over HTTP: a value in Latin-1 was read with each accented letter turned into U+FFFD, and
  // the command recorded with a mangled contact name.
  it('treats a value that is not UTF-8 as poison, naming the body, as the HTTP API refuses it', () => {
    const latin1 = Buffer.from('{"type":"GiveConsent","subjectId":"cust-1","purpose":"newsletter-prospects","contact":{"name":"Ren\xe9e"},"capture":{"touchpoint":"web-form","actor":{"kind":"subject"},"noticeVersion":"2024-02-27"}}', 'latin1');
    expect(readCommandMessage(message({ value: latin1 }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'key-1',
      problems: [{ field: 'body', message: expect.stringMatching(/^must be encoded as UTF-8/) }],
    });
  });

  it('treats a message that is not JSON, too large, empty or without a key as poison, answered under the best key it has', () => {
    expect(readCommandMessage(message({ value: Buffer.from('not json') }), origin)).toMatchObject({ kind: 'poison', resultKey: 'key-1', problems: [{ field: 'body', message: 'must be JSON' }] });
    expect(readCommandMessage(message({ value: Buffer.alloc(MAX_COMMAND_BYTES + 1) }), origin)).toMatchObject({ kind: 'poison', problems: [{ field: 'body' }] });
    expect(readCommandMessage(message({ value: null }), origin)).toMatchObject({ kind: 'poison', problems: [{ field: 'body' }] });
    expect(readCommandMessage(message({ headers: {} }), origin)).toMatchObject({ kind: 'poison', resultKey: 'unkeyed:2:41', problems: [{ field: 'idempotency-key' }] });
    // Nor is a key holding a phone number published as the result's key.
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('call-0475123456') } }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'unkeyed:2:41',
      problems: [{ field: 'idempotency-key', message: expect.stringContaining('phone number') }],
    });
  });

  // Found in review: the topic took keys of 200 characters and HTTP of 255, so a channel system
  // sending its commands both ways had its longer keys refused on the topic.
  it('takes an idempotency key as long as the HTTP API takes, 255 characters, and refuses a longer one saying so', () => {
    const longest = 'k'.repeat(255);
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from(longest) } }), origin)).toMatchObject({ kind: 'command', idempotencyKey: longest });
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from(`${longest}k`) } }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'unkeyed:2:41',
      problems: [{ field: 'idempotency-key', message: 'must be 1 to 255 printable ASCII characters without spaces' }],
    });
  });

  it('answers a body nested thousands of levels deep as poison instead of failing on it', () => {
    const nested = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expect(nested.length).toBeLessThan(MAX_COMMAND_BYTES);
    expect(readCommandMessage(message({ value: Buffer.from(nested) }), origin)).toMatchObject({
      kind: 'poison',
      resultKey: 'key-1',
      problems: [{ message: expect.stringContaining('nested too deeply') }],
    });
  });

  it('refuses a body nested too deeply without parsing it', () => {
    const nested = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(readCommandMessage(message({ value: Buffer.from(nested) }), origin)).toMatchObject({
        kind: 'poison',
        problems: [{ field: '[0][0][0][0][0][0]', message: 'is nested too deeply (at most 6 levels)' }],
      });
      expect(parse).not.toHaveBeenCalledWith(nested);
    } finally {
      parse.mockRestore();
    }
  });

  it('does not copy an oversized or unprintable correlation id into the result', () => {
    const read = readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-1'), 'correlation-id': Buffer.from('x'.repeat(60_000)) } }), origin);
    expect(read).toMatchObject({ kind: 'poison', resultKey: 'key-1', problems: [{ field: 'correlation-id' }] });
    expect(read).not.toHaveProperty('correlationId');
    expect(readCommandMessage(message({ headers: { 'idempotency-key': Buffer.from('key-1'), 'correlation-id': Buffer.from('order-7') } }), origin)).toMatchObject({ kind: 'command', correlationId: 'order-7' });
  });
});
