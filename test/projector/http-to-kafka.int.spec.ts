import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestMicroservice } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConsentApi } from '../../apps/consent-api/src/consent-api';
import { readConfig } from '../../apps/consent-api/src/config';
import { adsAndDataKeyOf } from '../../apps/projector/src/consent-feed/audience-message';
import { createProjector } from '../../apps/projector/src/projector';
import { ProjectorResources } from '../../apps/projector/src/projector-resources';
import { testProjectorConfig } from '../../apps/projector/src/testing/test-config';
import { TopicReader } from '../../apps/projector/src/testing/topic-reader';
import { commandJson } from '../../libs/ledger-commands/src/testing/command-json';
import { createTestSchema, describeWithKafka, describeWithPostgres, kafkaTestBrokers, type TestSchema, uniqueName } from '../support/services';

const run = promisify(execFile);
const API_KEY = randomBytes(24).toString('hex');
const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';

/**
 * The production shape on one machine: the consent API (PostgreSQL store, projector off) takes a
 * command over HTTP; the projector, a separate app on the same database, publishes it to Kafka.
 */
describeWithPostgres('a command over HTTP reaches Kafka through the projector', () => {
  describeWithKafka('with the real broker', () => {
    let schema: TestSchema;
    let api: NestFastifyApplication;
    let projector: INestMicroservice;
    let resources: ProjectorResources;
    let reader: TopicReader;
    const masterKey = randomBytes(32);
    const projectorConfig = () =>
      testProjectorConfig({ eventStore: 'postgres', databaseUrl: schema.url, masterKey });

    beforeAll(async () => {
      schema = await createTestSchema('cl_projector_e2e');
      const apiConfig = readConfig(
        {
          EVENT_STORE: 'postgres',
          DATABASE_URL: schema.url,
          DATA_DIR: mkdtempSync(join(tmpdir(), 'consent-api-')),
          PROJECTOR: 'off',
          MASTER_KEY: masterKey.toString('base64'),
          CONSENT_API_KEYS: JSON.stringify([{ key: API_KEY, client: 'myproximus', scopes: ['commands:write', 'relationships:write', 'decisions:read', 'subjects:erase'] }]),
        },
        join(__dirname, '../..'),
      );
      api = await createConsentApi(apiConfig, { logger: false });
      const config = projectorConfig();
      projector = await createProjector(config, { logger: false });
      await projector.listen();
      resources = projector.get(ProjectorResources);
      const { topics } = resources;
      reader = await TopicReader.open(config.kafkaBrokers, [topics.events, topics.state, topics.pickxTvAds, topics.adsAndData]);
    });

    afterAll(async () => {
      await reader?.close();
      await projector?.close();
      await api?.close();
      await schema?.drop();
    });

    const post = async (command: Record<string, unknown>) => {
      const response = await api.getHttpAdapter().getInstance().inject({
        method: 'POST',
        url: '/v1/commands',
        headers: { authorization: `Bearer ${API_KEY}`, 'idempotency-key': uniqueName('key'), 'content-type': 'application/json' },
        payload: JSON.stringify(command),
      });
      expect(response.statusCode).toBe(201);
      return response.json() as { subjectId: string; events: { id: string; type: string }[]; position: string };
    };

    it('publishes the events on consent.events.v1 and the new state on consent.state.v1', async () => {
      const subjectId = uniqueName('subject');
      await post(commandJson.startRelationship(subjectId));
      const consent = await post(commandJson.giveConsent(subjectId, { purpose: PICKX, channels: ['tv-screen'] }));
      const { topics } = resources;

      const events = await reader.until(() => reader.messages(topics.events, subjectId).length === 2 && reader.messages(topics.events, subjectId), 'both events');
      expect(events.map((message) => message.value.eventType)).toEqual(['RelationshipStarted', 'ConsentGiven']);
      expect(events[1].value).toMatchObject({ eventId: consent.events[0].id, position: consent.position });

      const state = await reader.until(() => reader.messages(topics.state, subjectId).find((message) => message.value.position === consent.position), 'the state');
      expect(state.value.purposes.find((entry: { purpose: string }) => entry.purpose === PICKX)).toMatchObject({ allowed: true, reason: 'consent-active' });
      const member = await reader.until(() => reader.messages(topics.pickxTvAds, subjectId)[0], 'the Pickx membership');
      expect(member.value).toMatchObject({ member: true });
    });

    it('lets kcat, an independent client, read every topic of the feed', async () => {
      const subjectId = uniqueName('subject');
      await post(commandJson.startRelationship(subjectId));
      await post(commandJson.giveConsent(subjectId, { purpose: PICKX, channels: ['tv-screen'] }));
      await post(commandJson.giveConsent(subjectId, { purpose: ADS_AND_DATA }));
      const { topics } = resources;
      const adsKey = adsAndDataKeyOf(subjectId, resources.adsAndDataKey);
      await reader.until(() => reader.messages(topics.adsAndData, adsKey).length > 0 && reader.messages(topics.state, subjectId).length > 0, 'the feed');

      const kcat = async (topic: string) => {
        const { stdout } = await run('kcat', ['-b', kafkaTestBrokers().join(','), '-C', '-t', topic, '-e', '-o', 'beginning', '-q', '-f', '%k\\t%s\\n'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
        return stdout.trim().split('\n').map((line) => line.split('\t'));
      };
      const eventLines = (await kcat(topics.events)).filter(([key]) => key === subjectId);
      expect(eventLines.map(([, value]) => JSON.parse(value).eventType)).toEqual(['RelationshipStarted', 'ConsentGiven', 'ConsentGiven']);
      const stateLines = (await kcat(topics.state)).filter(([key]) => key === subjectId);
      expect(JSON.parse(stateLines.at(-1)![1])).toMatchObject({ subjectId, schemaVersion: 1 });
      expect((await kcat(topics.pickxTvAds)).filter(([key]) => key === subjectId).map(([, value]) => JSON.parse(value).member)).toContain(true);
      const adsLines = await kcat(topics.adsAndData);
      expect(adsLines.filter(([key]) => key === adsKey).map(([, value]) => JSON.parse(value))).toEqual([expect.objectContaining({ member: true })]);
      expect(adsLines.some(([key, value]) => key.includes(subjectId) || value.includes(subjectId))).toBe(false);
    });
  });
});
