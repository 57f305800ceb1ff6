import { randomBytes } from 'node:crypto';
import { onDatabase, schemaUrl } from '../../bench/support/postgres';

/**
 * Integration suites use these instead of `describe` so a missing service shows up as skipped
 * tests (which CI refuses), never as a silent pass.
 */
export const describeWithPostgres: jest.Describe =
  process.env.CL_TEST_POSTGRES === 'up' ? describe : describe.skip;

export const describeWithKafka: jest.Describe = process.env.CL_TEST_KAFKA === 'up' ? describe : describe.skip;

export function postgresTestUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function kafkaTestBrokers(): string[] {
  return (process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** A short unique name for schemas, topics and groups, so parallel and repeated runs never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestSchema {
  readonly schema: string;
  /** Connection string whose search_path is the fresh schema. */
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty schema in the `test` database; `drop()` removes it with everything in it. */
export async function createTestSchema(prefix = 'cl_test'): Promise<TestSchema> {
  const schema = uniqueName(prefix).toLowerCase();
  const base = postgresTestUrl();
  await withClient(base, (client) => client.query(`create schema ${schema}`));
  const url = schemaUrl(base, schema);
  return {
    schema,
    url,
    drop: () => dropSchema(base, schema),
  };
}

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database on the test server; `drop()` removes it, ending its sessions. For a
 * test that must not share the database with other suites: VACUUM keeps every row version a
 * transaction of the same database may still see, whichever suite's it is.
 */
export async function createTestDatabase(prefix = 'cl_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const onServer = Object.assign(new URL(postgresTestUrl()), { pathname: '/postgres' }).toString();
  await withClient(onServer, (client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: Object.assign(new URL(postgresTestUrl()), { pathname: `/${name}` }).toString(),
    drop: async () => {
      await withClient(onServer, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A test that cut the connections under a transaction leaves its backend finishing it on the
 * server after the proxy let the held statements through: dropping the schema then may deadlock
 * with it, once in a dozen runs of answer-timeout.int.spec.ts. PostgreSQL picks the drop as the
 * victim; by the next try the other transaction has ended.
 */
async function dropSchema(base: string, schema: string, attemptsLeft = 5): Promise<void> {
  try {
    await withClient(base, (client) => client.query(`drop schema if exists ${schema} cascade`));
  } catch (error) {
    if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attemptsLeft <= 1) throw error;
    await new Promise((resolve) => setTimeout(resolve, 200));
    await dropSchema(base, schema, attemptsLeft - 1);
  }
}

const DEADLOCK_DETECTED = '40P01';

/** One short-lived connection for a test's setup or inspection, closed whatever happens. */
export const withClient = onDatabase;
