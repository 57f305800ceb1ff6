import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kafkaTestBrokers, uniqueName } from '../../../../test/support/services';
import type { ProjectorConfig } from '../config';

/** A projector configuration of its own for one test: fresh data directory, topic prefix and instance id. */
export function testProjectorConfig(overrides: Partial<ProjectorConfig> = {}): ProjectorConfig {
  return {
    production: false,
    instanceId: uniqueName('projector'),
    eventStore: 'sqlite',
    dataDir: mkdtempSync(join(tmpdir(), 'consent-projector-')),
    kafkaBrokers: kafkaTestBrokers(),
    // TEST_KAFKA_TOPIC_PREFIX: runs sharing a broker keep their topics apart by a prefix of their own.
    kafkaTopicPrefix: `${process.env.TEST_KAFKA_TOPIC_PREFIX ?? ''}${uniqueName('cl_test')}.`,
    kafkaPartitions: 2,
    kafkaReplicationFactor: 1,
    kafkaCompression: 'gzip',
    deleteAnsweredCommands: true,
    catalogueFile: resolve(__dirname, '../../../../catalogues/proximus.json'),
    adsAndDataKey: randomBytes(32),
    masterKey: randomBytes(32),
    sweepEveryMs: 60_000,
    leaseTtlMs: 3_000,
    idempotencyRetentionMs: 30 * 86_400_000,
    databaseAnswerTimeoutMs: 10_000,
    logFormat: 'text',
    ...overrides,
  };
}
