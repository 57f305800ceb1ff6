import { execFileSync } from 'node:child_process';
import type { INestMicroservice } from '@nestjs/common';
import { CompressionCodecs, CompressionTypes, Kafka, KafkaJSNotImplemented, logLevel, Partitioners, type Producer } from 'kafkajs';
import { commandJson } from '../../../../libs/ledger-commands/src/testing/command-json';
import { iban, nationalRegisterNumber, withDotsAndDash } from '../../../../libs/ledger-commands/src/testing/identity-numbers';
import { describeWithKafka, uniqueName } from '../../../../test/support/services';
import { createProjector } from '../projector';
import { ProjectorResources } from '../projector-resources';
import { testProjectorConfig } from '../testing/test-config';
import { TopicReader } from '../testing/topic-reader';
import { MAX_COMMAND_BYTES } from './command-message';

describeWithKafka('consent.commands.v1: command intake over Kafka', () => {
  const config = testProjectorConfig();
  let app: INestMicroservice;
  let resources: ProjectorResources;
  let reader: TopicReader;
  let producer: Producer;

  beforeAll(async () => {
    app = await createProjector(config, { logger: false });
    await app.listen();
    resources = app.get(ProjectorResources);
    const { topics } = resources;
    reader = await TopicReader.open(config.kafkaBrokers, [topics.commandResults, topics.events, topics.state]);
    producer = new Kafka({ clientId: uniqueName('tv-menu-backend'), brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await reader?.close();
    await app?.close();
  });

  /** As channel systems send them: keyed by subject, the idempotency key (`key` here) in its header. */
  const send = (messages: { key?: string; value: string | Buffer; headers?: Record<string, string>; partition?: number }[]) =>
    producer.send({
      topic: resources.topics.commands,
      messages: messages.map(({ key, headers, ...message }) => ({ ...message, key: 'subject-key', headers: { ...headers, ...(key !== undefined && { 'idempotency-key': key }) } })),
    });
  const resultFor = (key: string) => reader.until(() => reader.messages(resources.topics.commandResults, key)[0], `the result for ${key}`);

  it('answers a command under its idempotency key, and the choice reaches consent.events.v1 and consent.state.v1', async () => {
    const subjectId = uniqueName('subject');
    const key = uniqueName('key');
    await send([{ key, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { client: 'tv-menu', 'correlation-id': 'ask-1' } }]);

    const result = await resultFor(key);
    expect(result.value).toMatchObject({
      schemaVersion: 1,
      idempotencyKey: key,
      status: 201,
      body: { subjectId, events: [{ type: 'RelationshipStarted', revision: 0 }], position: expect.any(String) },
      replayed: false,
    });
    expect(result.headers).toMatchObject({ 'idempotency-key': key, status: '201', 'correlation-id': 'ask-1' });

    const event = await reader.until(() => reader.messages(resources.topics.events, subjectId)[0], 'the event');
    expect(event.value).toMatchObject({ eventType: 'RelationshipStarted', position: result.value.body.position });
    const state = await reader.until(() => reader.messages(resources.topics.state, subjectId)[0], 'the state');
    expect(state.value).toMatchObject({ subjectId, position: result.value.body.position, relationships: [{ relationship: 'customer', status: 'active' }] });
  });

  // Found in review: keys are each client's own, but results are keyed by the key alone and did not
  // say whose they were: a system reading the results of its key took the other system's as its own.
  it('says whose command each result answers when two clients use the same key', async () => {
    const key = uniqueName('key');
    const [fromTv, fromShop] = [uniqueName('subject'), uniqueName('subject')];
    await send([
      { key, value: JSON.stringify(commandJson.startRelationship(fromTv)), headers: { client: 'tv-menu' } },
      { key, value: JSON.stringify(commandJson.startRelationship(fromShop)), headers: { client: 'shop' } },
    ]);

    const results = await reader.until(() => (reader.messages(resources.topics.commandResults, key).length === 2 ? reader.messages(resources.topics.commandResults, key) : undefined), 'both results');
    expect(results.map(({ value, headers }) => ({ client: value.client, header: headers.client, subjectId: value.body.subjectId, status: value.status }))).toEqual([
      { client: 'tv-menu', header: 'tv-menu', subjectId: fromTv, status: 201 },
      { client: 'shop', header: 'shop', subjectId: fromShop, status: 201 },
    ]);
  });

  it('answers a retry with the first answer and records nothing new', async () => {
    const subjectId = uniqueName('subject');
    const key = uniqueName('key');
    const command = JSON.stringify(commandJson.startRelationship(subjectId));
    await send([{ key, value: command, headers: { client: 'call-centre' } }]);
    const first = await resultFor(key);
    await send([{ key, value: command, headers: { client: 'call-centre' } }]);

    const second = await reader.until(() => reader.messages(resources.topics.commandResults, key)[1], 'the second result');
    expect(second.value).toMatchObject({ status: 201, body: first.value.body, replayed: true });
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(1);
  });

  // Found in review: the unauthenticated `client` header shared the keys of the HTTP client of the same name.
  it('keeps a topic client\'s keys apart from those of the HTTP client of the same name', async () => {
    const key = uniqueName('key');
    const overHttp = commandJson.startRelationship(uniqueName('subject'));
    const checked = resources.intake.check(overHttp);
    if (checked.errors) throw new Error(JSON.stringify(checked.errors));
    const http = await resources.intake.execute(checked.value, { client: 'tv-menu', idempotencyKey: key, requestFingerprint: resources.intake.fingerprintOf(overHttp) });
    expect(http).toMatchObject({ status: 201 });

    const subjectId = uniqueName('subject');
    await send([{ key, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { client: 'tv-menu' } }]);
    expect((await resultFor(key)).value).toMatchObject({ status: 201, replayed: false, body: { subjectId } });
    const [recorded] = await resources.store.readStream(`consent-ledger-${subjectId}`);
    expect(recorded.metadata).toMatchObject({ client: 'kafka/tv-menu', idempotencyKey: key });
  });

  // Found in review: a retry sent across the upgrade that gave topic clients names of their own
  // was decided again, and a consent the person had withdrawn since was given once more.
  it('answers from the log a retry of a command recorded under the client\'s name before topic clients had their own', async () => {
    const subjectId = uniqueName('subject');
    const key = uniqueName('key');
    const start = commandJson.startRelationship(subjectId);
    const consent = commandJson.giveConsent(subjectId, { purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'] });
    for (const [json, idempotencyKey] of [[start, uniqueName('key')], [consent, key]] as const) {
      const checked = resources.intake.check(json);
      if (checked.errors) throw new Error(JSON.stringify(checked.errors));
      await resources.intake.execute(checked.value, { client: 'tv-menu', idempotencyKey, requestFingerprint: resources.intake.fingerprintOf(json) });
    }
    const [, given] = await resources.store.readStream(`consent-ledger-${subjectId}`);

    await send([{ key, value: JSON.stringify(consent), headers: { client: 'tv-menu' } }]);
    expect((await resultFor(key)).value).toMatchObject({ status: 201, replayed: true, body: { events: [{ id: given.eventId }] } });
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(2);
  });

  // Found in review: a channel's typo in the notice version was recorded as the proof of consent.
  it('answers 422 notice-version-unknown to a consent under a notice the operator never published, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const keys = { start: uniqueName('key'), consent: uniqueName('key') };
    await send([{ key: keys.start, value: JSON.stringify(commandJson.startRelationship(subjectId)) }]);
    expect((await resultFor(keys.start)).value).toMatchObject({ status: 201 });
    await send([{ key: keys.consent, value: JSON.stringify(commandJson.giveConsent(subjectId, { capture: { noticeVersion: '2099-12-31' } })) }]);

    expect((await resultFor(keys.consent)).value).toMatchObject({ status: 422, body: { error: 'notice-version-unknown', message: expect.stringContaining('capture.noticeVersion') } });
    expect((await resources.store.readStream(`consent-ledger-${subjectId}`)).map((event) => event.type)).toEqual(['RelationshipStarted']);
  });

  // Over HTTP they need scopes of their own; a channel system's write access to the topic is not that.
  it('refuses an erasure or an objection review sent on the topic, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const keys = { start: uniqueName('key'), erase: uniqueName('key'), review: uniqueName('key') };
    await send([{ key: keys.start, value: JSON.stringify(commandJson.startRelationship(subjectId)) }]);
    expect((await resultFor(keys.start)).value).toMatchObject({ status: 201 });
    await send([
      { key: keys.erase, value: JSON.stringify(commandJson.eraseSubject(subjectId)) },
      { key: keys.review, value: JSON.stringify(commandJson.reviewObjection(subjectId)) },
    ]);

    expect((await resultFor(keys.erase)).value).toMatchObject({ status: 403, body: { error: 'forbidden', message: expect.stringContaining('subjects:erase') } });
    expect((await resultFor(keys.review)).value).toMatchObject({ status: 403, body: { error: 'forbidden', message: expect.stringContaining('objections:review') } });
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(1);
  });

  it('answers a broken rule with the 422 body', async () => {
    const key = uniqueName('key');
    await send([{ key, value: JSON.stringify(commandJson.giveConsent(uniqueName('subject'), { channels: ['sms'] })) }]);
    expect((await resultFor(key)).value).toMatchObject({ status: 422, body: { error: 'channel-not-used-by-purpose' } });
  });

  // Found in review: the 400 repeated the refused value, so an e-mail address sent as the locale
  // reached every channel system reading the results topic, for 7 days.
  it('answers a refused value without repeating personal data it may hold, on a topic every channel system reads', async () => {
    const keys = { inAField: uniqueName('key'), notJson: uniqueName('key') };
    await send([
      { key: keys.inAField, value: JSON.stringify(commandJson.giveConsent(uniqueName('subject'), { capture: { locale: 'jan.peeters@example.be', touchpoint: '0475123456' } })) },
      { key: keys.notJson, value: 'jan.peeters@example.be asked to stop' },
    ]);

    const inAField = (await resultFor(keys.inAField)).value;
    expect(inAField).toMatchObject({ status: 400, body: { details: [{ field: 'capture.touchpoint' }, { field: 'capture.locale' }] } });
    expect((await resultFor(keys.notJson)).value).toMatchObject({ status: 400, body: { details: [{ field: 'body', message: 'must be JSON' }] } });
    for (const key of Object.values(keys)) expect(JSON.stringify((await resultFor(key)).value)).not.toMatch(/jan\.peeters|0475123456/);
  });

  // Found in review: the correlation id was copied into the result unscreened, so a call-centre
  // platform correlating by the caller's number published it to every channel system for 7 days.
  it('refuses a correlation id holding an e-mail address or phone number, without copying it into the result, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const keys = { email: uniqueName('key'), phone: uniqueName('key') };
    await send([
      { key: keys.email, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { 'correlation-id': 'jan.peeters@example.be' } },
      { key: keys.phone, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { 'correlation-id': 'caller-0475123456' } },
    ]);

    for (const key of Object.values(keys)) {
      const result = await resultFor(key);
      expect(result.value).toMatchObject({ status: 400, body: { error: 'validation-failed', details: [{ field: 'correlation-id' }] } });
      expect(result.headers).not.toHaveProperty('correlation-id');
      expect(JSON.stringify(result)).not.toMatch(/jan\.peeters|0475123456/);
    }
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(0);
  });

  // Found in review on 2026-11-30: a national register number or an IBAN as correlation id was
  // copied into the result, which every channel system reads, where contact details were refused.
  it('refuses a correlation id holding a national register number or an IBAN, without copying it into the result, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const correlationIds = { [uniqueName('key')]: nationalRegisterNumber({ born: '1985-07-30', serial: 33 }), [uniqueName('key')]: `sepa-${iban('BE', '539007547034')}` };
    await send(Object.entries(correlationIds).map(([key, correlationId]) => ({ key, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { 'correlation-id': correlationId } })));

    for (const key of Object.keys(correlationIds)) {
      const result = await resultFor(key);
      expect(result.value).toMatchObject({
        status: 400,
        body: { error: 'validation-failed', details: [{ field: 'correlation-id', message: expect.stringContaining('national register number or bank account number') }] },
      });
      expect(result.headers).not.toHaveProperty('correlation-id');
      expect(JSON.stringify(result)).not.toMatch(/85073003328|BE68539007547034/);
    }
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(0);
  });

  // Found by a channel team (h10): the `client` header was checked for its characters only, so a
  // phone number or an identity number there was copied into the result, which every channel
  // system reads, and recorded for good in the events' metadata (`kafka/0475123456`), out of
  // reach of an erasure, where the same number as idempotency or correlation id was refused.
  it('refuses a client header holding a phone number, a national register number or an IBAN, without copying it into the result, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const clients = { [uniqueName('key')]: '0475123456', [uniqueName('key')]: withDotsAndDash(nationalRegisterNumber({ born: '1985-07-30', serial: 33 })), [uniqueName('key')]: iban('BE', '539007547034') };
    await send(Object.entries(clients).map(([key, client]) => ({ key, value: JSON.stringify(commandJson.startRelationship(subjectId)), headers: { client } })));

    for (const [key, client] of Object.entries(clients)) {
      const result = await resultFor(key);
      expect(result.value).toMatchObject({ status: 400, body: { error: 'validation-failed', details: [{ field: 'client', message: expect.stringMatching(/^must not contain/) }] } });
      expect(result.value).not.toHaveProperty('client');
      expect(result.headers).not.toHaveProperty('client');
      expect(JSON.stringify(result)).not.toContain(client);
    }
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(0);
  });

  // Found in review on 2026-11-30: `85.07.30-033.28` as a key was the result's key and header,
  // every channel system reads them, and the events' causation-id on consent.events.v1.
  it('refuses an idempotency key holding a national register number as printed or an IBAN, answering under the message\'s place, and records nothing', async () => {
    const subjectId = uniqueName('subject');
    const keys = [withDotsAndDash(nationalRegisterNumber({ born: '1985-07-30', serial: 33 })), `sepa-${iban('BE', '539007547034')}`];
    const [sent] = await send(keys.map((key) => ({ partition: 1, key, value: JSON.stringify(commandJson.startRelationship(subjectId)) })));

    for (const [index, key] of keys.entries()) {
      const resultKey = `unkeyed:1:${BigInt(sent.baseOffset!) + BigInt(index)}`;
      const result = await reader.until(() => reader.messages(resources.topics.commandResults, resultKey)[0], `the result for ${resultKey}`);
      expect(result.value).toMatchObject({
        idempotencyKey: resultKey,
        status: 400,
        body: { error: 'validation-failed', details: [{ field: 'idempotency-key', message: 'must not contain a national register number or bank account number: it is kept in clear in the log' }] },
      });
      expect(JSON.stringify(result)).not.toContain(key);
    }
    expect(await resources.store.readStream(`consent-ledger-${subjectId}`)).toHaveLength(0);
  });

  // Found in review: the topic took keys of 200 characters and HTTP of 255, so a channel system
  // sending its commands both ways had its longer keys refused here.
  it('records a command under a 255-character key, as HTTP takes, and answers a longer key with a 400 naming the header', async () => {
    const subjectId = uniqueName('subject');
    const longest = `${uniqueName('key')}-`.padEnd(255, 'x');
    const tooLong = `${uniqueName('key')}-`.padEnd(256, 'x');
    await send([
      { partition: 1, key: longest, value: JSON.stringify(commandJson.startRelationship(subjectId)) },
      { partition: 1, key: tooLong, value: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))) },
    ]);

    expect((await resultFor(longest)).value).toMatchObject({ idempotencyKey: longest, status: 201, body: { subjectId } });
    const refused = await reader.until(
      () => reader.messages(resources.topics.commandResults).find((message) => message.key?.startsWith('unkeyed:1:') && message.value.body?.details?.[0]?.message?.includes('255')),
      'the result for the message with too long a key',
    );
    expect(refused.value).toMatchObject({ status: 400, body: { error: 'validation-failed', details: [{ field: 'idempotency-key', message: 'must be 1 to 255 printable ASCII characters without spaces' }] } });
  });

  it('answers poison messages with an error result and keeps the partition moving', async () => {
    const keys = { notJson: uniqueName('key'), huge: uniqueName('key'), wrongShape: uniqueName('key'), valid: uniqueName('key') };
    await send([
      { partition: 0, key: keys.notJson, value: 'GiveConsent please' },
      { partition: 0, key: keys.huge, value: Buffer.alloc(MAX_COMMAND_BYTES + 1, 'x') },
      { partition: 0, key: keys.wrongShape, value: JSON.stringify({ type: 'GiveConsent', subjectId: 42 }) },
      { partition: 0, value: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))) },
      { partition: 0, key: keys.valid, value: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))) },
    ]);

    expect((await resultFor(keys.valid)).value).toMatchObject({ status: 201 });
    expect((await resultFor(keys.notJson)).value).toMatchObject({ status: 400, body: { error: 'validation-failed', details: [{ field: 'body', message: 'must be JSON' }] } });
    expect((await resultFor(keys.huge)).value).toMatchObject({ status: 400, body: { details: [{ field: 'body', message: expect.stringContaining('at most 65536 bytes') }] } });
    expect((await resultFor(keys.wrongShape)).value).toMatchObject({ status: 400, body: { error: 'validation-failed' } });
    const unkeyed = await reader.until(
      () => reader.messages(resources.topics.commandResults).find((message) => message.key?.startsWith('unkeyed:0:')),
      'the result for the message without a key',
    );
    expect(unkeyed.value).toMatchObject({ status: 400, body: { details: [{ field: 'idempotency-key' }] } });
  });

  // Found by a channel team (h10): kafkajs reads gzip alone, and one command a Java or librdkafka
  // producer sent compressed with Snappy, LZ4 or zstd (`compression.type`, a producer's setting the
  // topic cannot refuse) crashed the intake's consumer in every projector instance, for good: no
  // command of any channel was answered again until they were restarted, and then they crashed again.
  it('answers commands a producer compressed with Snappy, LZ4 or zstd, and goes on answering the others', async () => {
    const sent = (['snappy', 'lz4', 'zstd'] as const).map((codec) => ({ codec, key: uniqueName(`key-${codec}`), subjectId: uniqueName('subject') }));
    for (const { codec, key, subjectId } of sent) {
      execFileSync('kcat', ['-P', '-b', config.kafkaBrokers.join(','), '-t', resources.topics.commands, '-z', codec, '-k', subjectId, '-H', `idempotency-key=${key}`, '-H', 'client=crm'], {
        input: JSON.stringify(commandJson.startRelationship(subjectId)),
        timeout: 30_000,
      });
    }
    const afterThem = uniqueName('key');
    await send([{ key: afterThem, value: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))) }]);

    for (const { key, subjectId } of sent) expect((await resultFor(key)).value).toMatchObject({ status: 201, client: 'crm', body: { subjectId, events: [{ type: 'RelationshipStarted' }] } });
    expect((await resultFor(afterThem)).value).toMatchObject({ status: 201 });
  });

  // Found by a channel team (h10): kafkajs leaves a consumer stopped after an error it does not
  // count as passing (a batch it could not read, here), and the process lived on with no command
  // of any channel answered again until someone restarted it.
  it('starts reading commands again after its consumer stopped on an error kafkajs does not recover from', async () => {
    const snappy = CompressionCodecs[CompressionTypes.Snappy];
    const key = uniqueName('key-snappy');
    // As kafkajs is shipped: it cannot read Snappy.
    CompressionCodecs[CompressionTypes.Snappy] = () => {
      throw new KafkaJSNotImplemented();
    };
    try {
      execFileSync('kcat', ['-P', '-b', config.kafkaBrokers.join(','), '-t', resources.topics.commands, '-z', 'snappy', '-k', 'subject-key', '-H', `idempotency-key=${key}`], {
        input: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))),
        timeout: 30_000,
      });
      // The batch reaches the consumer while kafkajs cannot read it: the consumer stops.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(reader.messages(resources.topics.commandResults, key)).toEqual([]);
    } finally {
      CompressionCodecs[CompressionTypes.Snappy] = snappy;
    }
    const afterIt = uniqueName('key');
    await send([{ key: afterIt, value: JSON.stringify(commandJson.startRelationship(uniqueName('subject'))) }]);

    expect((await resultFor(key)).value).toMatchObject({ status: 201 });
    expect((await resultFor(afterIt)).value).toMatchObject({ status: 201 });
  });
});
