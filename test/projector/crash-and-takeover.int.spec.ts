import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { catalogue, channelRestricted, consentGiven, relationshipStarted } from '@consent-ledger/domain/testing';
import { openPostgresEventStore, type PostgresEventStore } from '@consent-ledger/event-store';
import { PostgresReadModelStorage } from '../../libs/read-models/src/storage/postgres/postgres-read-model-storage';
import { ProjectedReadModels } from '../../libs/read-models/src/read-models';
import { LEDGER_STREAM_PREFIX } from '../../libs/read-models/src/ledger-events';
import { startProjections } from '../../libs/read-models/src/projection-runner';
import { asNewEvent, ledgerStream } from '../../libs/read-models/src/testing/stored-events';
import { ensureTopics } from '../../apps/projector/src/kafka/kafka-client';
import { consentTopics } from '../../apps/projector/src/kafka/topics';
import { eventually, TopicReader } from '../../apps/projector/src/testing/topic-reader';
import type { LedgerEvent, SubjectId } from '@consent-ledger/domain';
import { createTestSchema, describeWithKafka, describeWithPostgres, kafkaTestBrokers, type TestSchema, uniqueName, withClient } from '../support/services';
import { buildProjector, ProjectorProcess } from './support/projector-process';

const EVENTS = 1200;
const SUBJECTS = 60;

/**
 * Two compiled projector processes share one PostgreSQL database and one set of topics, one
 * keeping the read models and publishing, the other standing by. The leader is SIGKILLed in the
 * middle of a stream of appends and started again; the survivor takes both roles over, and is
 * killed in turn later on. The read models must end exactly as a rebuild from position 0 makes
 * them, and every event must reach Kafka.
 */
describeWithPostgres('projector killed mid-stream', () => {
  describeWithKafka('with a second instance standing by', () => {
    let schema: TestSchema;
    let store: PostgresEventStore;
    let reader: TopicReader;
    const prefix = `${uniqueName('cl_test')}.`;
    const topics = consentTopics(prefix);
    const processes: ProjectorProcess[] = [];

    const env = (instanceId: string) => ({
      EVENT_STORE: 'postgres',
      DATABASE_URL: schema.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'consent-projector-')),
      KAFKA_BROKERS: kafkaTestBrokers().join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '2',
      PROJECTOR_INSTANCE_ID: instanceId,
      ADS_AND_DATA_KEY: randomBytes(32).toString('base64'),
      MASTER_KEY: masterKey,
      LEASE_TTL_MS: '2000',
      NODE_ENV: 'production',
    });
    const masterKey = randomBytes(32).toString('base64');

    beforeAll(async () => {
      await buildProjector();
      schema = await createTestSchema('cl_projector_crash');
      store = await openPostgresEventStore({ url: schema.url, poolSize: 4 });
      const admin = new Kafka({ clientId: uniqueName('admin'), brokers: kafkaTestBrokers(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await ensureTopics(admin, topics, 2, 1);
      await admin.disconnect();
      reader = await TopicReader.open(kafkaTestBrokers(), [topics.events]);
    }, 300_000);

    afterAll(async () => {
      await Promise.all(processes.map((child) => child.kill()));
      await reader?.close();
      await store?.close();
      await schema?.drop();
    });

    const sql = async <T>(text: string): Promise<T[]> => withClient(schema.url, async (client) => (await client.query(text)).rows as T[]);
    const checkpoint = async (name: string) => BigInt((await sql<{ position: string }>(`SELECT position FROM rm_checkpoints WHERE name = '${name}'`))[0]?.position ?? 0);
    const holders = async (): Promise<Record<string, string>> =>
      Object.fromEntries((await sql<{ role: string; holder: string }>('SELECT role, holder FROM rm_leases WHERE expires_at >= now()')).map((row) => [row.role, row.holder]));

    function eventNumber(i: number): LedgerEvent {
      const subjectId = `subject-${i % SUBJECTS}` as SubjectId;
      const occurredAt = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
      if (i < SUBJECTS) return relationshipStarted({ subjectId, occurredAt });
      return i % 2 === 0
        ? consentGiven({ subjectId, purpose: 'targeted-tv-advertising-pickx', channels: ['tv-screen'], occurredAt })
        : channelRestricted({ subjectId, channel: i % 3 === 0 ? 'sms' : 'tv-screen', occurredAt });
    }

    it('loses and duplicates nothing in the read models, and every event still reaches Kafka', async () => {
      const start = async (instanceId: string) => {
        const child = new ProjectorProcess(env(instanceId));
        processes.push(child);
        await child.running();
        return child;
      };
      const feedRole = `consent-feed:${prefix}`;
      const byId = new Map([['projector-a', await start('projector-a')], ['projector-b', await start('projector-b')]]);
      /** The instance holding both roles, once one does (ids differ: the other must have taken over). */
      const leaderOtherThan = (previous?: string) =>
        eventually(async () => {
          const leases = await holders();
          const leader = leases['read-models'];
          return leader !== undefined && leases[feedRole] === leader && leader !== previous && leader;
        }, 'one instance to keep the read models and publish', 30_000);
      const first = await leaderOtherThan();

      let appended = 0;
      const appending = (async () => {
        for (; appended < EVENTS; appended += 1) {
          const event = eventNumber(appended);
          await store.append(ledgerStream(event.data.subjectId), [asNewEvent(event)], { expectedRevision: 'any' });
        }
      })();

      // Kill the leader a third of the way in. Once the survivor has taken both roles over, the
      // dead one comes back as a fresh process with the same id and stands by; the survivor is
      // killed in turn two thirds in, and the first takes over again.
      await eventually(async () => (await checkpoint('read-models')) >= BigInt(EVENTS / 3), 'the first third to be projected', 60_000);
      await byId.get(first)!.kill();
      const atFirstKill = await checkpoint('read-models');
      const second = await leaderOtherThan(first);
      byId.set(first, await start(first));

      await eventually(async () => (await checkpoint(feedRole)) >= BigInt((2 * EVENTS) / 3), 'two thirds to be published', 60_000);
      await byId.get(second)!.kill();
      await leaderOtherThan(second);
      byId.set(second, await start(second));

      await appending;
      const head = await store.headPosition();
      expect(atFirstKill).toBeLessThan(head);
      await eventually(async () => (await checkpoint('read-models')) === head && (await checkpoint(feedRole)) === head, 'both roles to catch up', 90_000);

      const published = await reader.until(() => {
        const ids = new Set(reader.messages(topics.events).map((message) => message.value.eventId));
        return ids.size === EVENTS && ids;
      }, 'every event on consent.events.v1', 30_000);
      // The topic carries the ledger's events; the catalogues the processes published are not choices.
      const stored = (await store.readAll()).filter((event) => event.streamName.startsWith(LEDGER_STREAM_PREFIX));
      expect(new Set(stored.map((event) => event.eventId))).toEqual(published);
      // At least once: only batches in flight at the kills may go out twice.
      expect(reader.messages(topics.events).length - EVENTS).toBeLessThanOrEqual(1000);

      await Promise.all([...byId.values()].map((child) => child.stop()));
      const storage = await PostgresReadModelStorage.open({ url: schema.url });
      const readModels = new ProjectedReadModels({ storage, catalogue, store });
      try {
        const followed = await storage.dump();
        expect(followed.checkpoint).toBe(head.toString());
        expect(followed.subjects).toHaveLength(SUBJECTS);
        const projections = startProjections({ readModels, store, sweepEveryMs: 0 });
        await projections.rebuild();
        await projections.stop();
        expect(await storage.dump()).toEqual(followed);
      } finally {
        await readModels.close();
        await storage.close();
      }
    }, 180_000);
  });
});
