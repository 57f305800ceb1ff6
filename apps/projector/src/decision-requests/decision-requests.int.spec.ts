import type { INestMicroservice } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import type { LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { channelRestricted, consentGiven, relationshipStarted } from '@consent-ledger/domain/testing';
import { asNewEvent, ledgerStream } from '../../../../libs/read-models/src/testing/stored-events';
import { describeWithKafka, uniqueName } from '../../../../test/support/services';
import { createProjector } from '../projector';
import { ProjectorResources } from '../projector-resources';
import { testProjectorConfig } from '../testing/test-config';

const PICKX = 'targeted-tv-advertising-pickx';

describeWithKafka('consent.decision: request-reply over Kafka', () => {
  const config = testProjectorConfig();
  let app: INestMicroservice;
  let resources: ProjectorResources;
  let client: ClientKafka;

  beforeAll(async () => {
    app = await createProjector(config, { logger: false });
    await app.listen();
    resources = app.get(ProjectorResources);
    client = new ClientKafka({
      client: { clientId: uniqueName('decision-client'), brokers: [...config.kafkaBrokers] },
      consumer: { groupId: uniqueName('decision-client'), sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 50 },
    });
    // Before connect: the client must be listening on the reply topic before it sends.
    client.subscribeToResponseOf(resources.topics.decisionRequests);
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  const record = async (...events: LedgerEvent[]) => {
    for (const event of events) await resources.store.append(ledgerStream(event.data.subjectId), [asNewEvent(event)], { expectedRevision: 'any' });
  };
  const ask = (question: unknown) => lastValueFrom(client.send(resources.topics.decisionRequests, question).pipe(timeout(20_000)));

  it('answers as GET /v1/subjects/{id}/decision does, from every event acknowledged before the question', async () => {
    const subjectId = uniqueName('subject') as SubjectId;
    await record(relationshipStarted({ subjectId }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'] }));

    expect(await ask({ subjectId, purpose: PICKX, channel: 'tv-screen' })).toEqual({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      basedOn: [
        { eventId: expect.any(String), revision: 0 },
        { eventId: expect.any(String), revision: 1 },
      ],
      validUntil: null,
    });

    await record(channelRestricted({ subjectId, channel: 'tv-screen', occurredAt: '2024-06-01T09:00:00Z' }));
    expect(await ask({ subjectId, purpose: PICKX, channel: 'tv-screen' })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
  });

  it('answers about an earlier instant as the ledger stood then', async () => {
    const subjectId = uniqueName('subject') as SubjectId;
    await record(relationshipStarted({ subjectId, occurredAt: '2024-01-01T09:00:00Z' }), consentGiven({ subjectId, purpose: PICKX, channels: ['tv-screen'], occurredAt: '2024-05-01T09:00:00Z' }));
    expect(await ask({ subjectId, purpose: PICKX, at: '2024-04-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it('answers a malformed question with the field and the reason, as a 400 would', async () => {
    expect(await ask({ subjectId: 'subject-1', purpose: 'no-such-purpose', channel: 'carrier-pigeon' })).toEqual({
      error: 'validation-failed',
      details: [expect.objectContaining({ field: 'channel' })],
    });
    expect(await ask({ subjectId: 'subject-1', purpose: 'no-such-purpose' })).toEqual({
      error: 'validation-failed',
      details: [{ field: 'purpose', message: 'is not a purpose of the catalogue (got "no-such-purpose")' }],
    });
  });
});
