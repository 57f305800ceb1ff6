import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestMicroservice } from '@nestjs/common';
import type { LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { channelRestricted, consentGiven, relationshipStarted } from '@consent-ledger/domain/testing';
import { appendToLog, asNewEvent, ledgerStream } from '../../libs/read-models/src/testing/stored-events';
import type { ProjectorConfig } from '../../apps/projector/src/config';
import { createProjector } from '../../apps/projector/src/projector';
import { ProjectorResources } from '../../apps/projector/src/projector-resources';
import { ProjectorRoles } from '../../apps/projector/src/projector-roles';
import { testProjectorConfig } from '../../apps/projector/src/testing/test-config';
import { eventually, TopicReader } from '../../apps/projector/src/testing/topic-reader';
import { createTestSchema, describeWithKafka, describeWithPostgres, type TestSchema, uniqueName } from '../support/services';

/**
 * Two projector instances on one database and one set of topics: the one that keeps the read
 * models also publishes, the other stands by; nothing is published twice, and when the first
 * stops (a rolling deploy) the second takes both roles over, still publishing nothing twice.
 */
describeWithPostgres('two projector instances', () => {
  describeWithKafka('sharing the work', () => {
    let schema: TestSchema;
    const apps: INestMicroservice[] = [];
    let reader: TopicReader;
    let shared: Pick<ProjectorConfig, 'databaseUrl' | 'kafkaTopicPrefix' | 'adsAndDataKey' | 'masterKey'>;

    beforeAll(async () => {
      schema = await createTestSchema('cl_projector_pair');
      shared = { databaseUrl: schema.url, kafkaTopicPrefix: `${uniqueName('cl_test')}.`, adsAndDataKey: randomBytes(32), masterKey: randomBytes(32) };
    });

    afterAll(async () => {
      await reader?.close();
      await Promise.allSettled(apps.map((app) => app.close()));
      await schema?.drop();
    });

    const start = async (instanceId: string) => {
      const app = await createProjector(testProjectorConfig({ ...shared, eventStore: 'postgres', instanceId }), { logger: false });
      await app.listen();
      apps.push(app);
      return app;
    };
    const record = async (app: INestMicroservice, events: LedgerEvent[]) => {
      const { store } = app.get(ProjectorResources);
      await appendToLog(store, ...events);
      return store.headPosition();
    };
    const story = (from: number, count: number): LedgerEvent[] =>
      Array.from({ length: count }, (_, offset) => {
        const i = from + offset;
        const subjectId = `pair-subject-${i % 20}` as SubjectId;
        const occurredAt = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
        if (i < 20) return relationshipStarted({ subjectId, occurredAt });
        return i % 2 ? consentGiven({ subjectId, purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], occurredAt }) : channelRestricted({ subjectId, channel: 'sms', occurredAt });
      });

    it('publishes from the instance that keeps the read models, each event and each state once, and once more after a handover', async () => {
      const first = await start('instance-1');
      const second = await start('instance-2');
      const roles = [first, second].map((app) => app.get(ProjectorRoles));
      await eventually(
        () => roles[0].leadsReadModels && roles[0].leadsFeed && !roles[1].leadsFeed && !roles[1].leadsReadModels,
        'the first to keep the read models and publish, the second to stand by',
        15_000,
      );
      const { topics } = first.get(ProjectorResources);
      reader = await TopicReader.open(testProjectorConfig().kafkaBrokers, [topics.events, topics.state]);

      const before = await record(first, story(0, 120));
      await reader.until(() => reader.messages(topics.events).length >= 120, 'the first 120 events');
      await reader.until(() => reader.messages(topics.state).some((message) => message.headers.position === before.toString()), 'the state of the last one');

      await first.close();
      await reader.until(() => roles[1].leadsReadModels && roles[1].leadsFeed, 'the second to take the read models over too', 10_000);
      const after = await record(second, story(120, 80));
      await reader.until(() => reader.messages(topics.events).length >= 200 && roles[1].feedCheckpoint === after, 'all 200 events');

      const eventIds = reader.messages(topics.events).map((message) => message.value.eventId);
      expect(eventIds).toHaveLength(200);
      expect(new Set(eventIds).size).toBe(200);
      const stateIds = reader.messages(topics.state).map((message) => message.headers['event-id']);
      expect(new Set(stateIds).size).toBe(stateIds.length);
    }, 60_000);
  });

  // Found in review: a projector opened on another catalogue (a rolling upgrade, or another
  // deployment's feed) emptied the shared read models at start, while the instance keeping them,
  // on the old rules, wrote nothing more or rebuilt them under its own; nothing came back until
  // processes were restarted by hand.
  describeWithKafka('an instance on another catalogue', () => {
    let schema: TestSchema;
    let directory: string;
    const apps: INestMicroservice[] = [];

    afterAll(async () => {
      await Promise.allSettled(apps.map((app) => app.close()));
      await schema?.drop();
      rmSync(directory, { recursive: true, force: true });
    });

    it('leaves the read models to the instance keeping them, and rebuilds them under its own rules once it keeps them', async () => {
      schema = await createTestSchema('cl_projector_catalogues');
      directory = mkdtempSync(join(tmpdir(), 'projector-catalogue-'));
      const edited = JSON.parse(readFileSync(testProjectorConfig().catalogueFile, 'utf8'));
      edited.catalogueVersion = `${edited.catalogueVersion}-edited`;
      edited.purposes.find((purpose: { id: string }) => purpose.id === 'targeted-tv-advertising-pickx').excludedBrands = ['scarlet'];
      const editedFile = join(directory, 'catalogue.json');
      writeFileSync(editedFile, JSON.stringify(edited));
      const shared = { databaseUrl: schema.url, eventStore: 'postgres' as const, adsAndDataKey: randomBytes(32), masterKey: randomBytes(32), kafkaTopicPrefix: `${uniqueName('cl_cat')}.` };
      const start = async (instanceId: string, catalogueFile?: string) => {
        const app = await createProjector(testProjectorConfig({ ...shared, instanceId, ...(catalogueFile && { catalogueFile }) }), { logger: false });
        await app.listen();
        apps.push(app);
        return app;
      };

      const keeper = await start('instance-old');
      await eventually(() => keeper.get(ProjectorRoles).leadsReadModels, 'the first to keep the read models', 15_000);
      const { store, readModels } = keeper.get(ProjectorResources);
      for (const event of [relationshipStarted({ subjectId: 'catalogue-subject' as SubjectId })]) {
        await store.append(ledgerStream(event.data.subjectId), [asNewEvent(event)], { expectedRevision: 'any' });
      }
      const head = await store.headPosition();
      await readModels.waitFor(head, 10_000);
      const before = await readModels.storage.recordedRules();

      const upgraded = await start('instance-new', editedFile);
      // Its catalogue, kept in the log before it decides anything, is the only event it adds; the
      // keeper passes over it under its own rules.
      const published = await store.headPosition();
      expect(published).toBe(head + 1n);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await readModels.storage.checkpoint()).toBe(published);
      expect(await readModels.storage.recordedRules()).toEqual(before);

      await keeper.close();
      await eventually(() => upgraded.get(ProjectorRoles).leadsReadModels, 'the upgraded instance to keep the read models', 15_000);
      const { storage } = upgraded.get(ProjectorResources).readModels;
      await eventually(async () => (await storage.recordedRules())?.version === edited.catalogueVersion, 'the rules of its catalogue recorded', 10_000);
      await eventually(async () => (await storage.checkpoint()) === published, 'the read models rebuilt under them', 10_000);
    }, 60_000);
  });

  // Found in review: with a feed per topic prefix on one database, only one instance keeps the read
  // models; the other deployment's feed was taken after two lease times unled, then handed back
  // at the next heartbeat, and was led about 3 s out of every 23.
  describeWithKafka('deployments with topics of their own sharing the read models', () => {
    let schema: TestSchema;
    const apps: INestMicroservice[] = [];

    afterAll(async () => {
      await Promise.allSettled(apps.map((app) => app.close()));
      await schema?.drop();
    });

    it('keeps each deployment\'s feed led, the one without the read models too', async () => {
      schema = await createTestSchema('cl_projector_prefixes');
      const shared = { databaseUrl: schema.url, eventStore: 'postgres' as const, adsAndDataKey: randomBytes(32), masterKey: randomBytes(32) };
      for (const [instanceId, prefix] of [['instance-a', 'a'], ['instance-b', 'b']]) {
        const app = await createProjector(testProjectorConfig({ ...shared, instanceId, kafkaTopicPrefix: `${uniqueName(`cl_${prefix}`)}.` }), { logger: false });
        await app.listen();
        apps.push(app);
      }
      const roles = apps.map((app) => app.get(ProjectorRoles));
      const { leaseTtlMs } = testProjectorConfig();
      await eventually(() => roles.every((role) => role.leadsFeed), 'both feeds to be led', 4 * leaseTtlMs);

      const unled: number[] = [];
      const watchUntil = Date.now() + 3 * leaseTtlMs;
      while (Date.now() < watchUntil) {
        roles.forEach((role, index) => role.leadsFeed || unled.push(index));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(unled).toEqual([]);
      expect(roles.filter((role) => role.leadsReadModels)).toHaveLength(1);
    }, 60_000);
  });
});
