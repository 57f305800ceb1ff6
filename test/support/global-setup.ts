import { Socket } from 'node:net';
import { Client } from 'pg';

/**
 * Probes the real services the integration suites need, once per jest run, and tells the workers
 * through the environment. A suite whose service is down is reported as skipped (never passed);
 * `.ci/run` fails on any skip.
 */
export default async function globalSetup(): Promise<void> {
  const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  process.env.TEST_DATABASE_URL = postgresUrl;
  process.env.CL_TEST_POSTGRES = (await canQueryPostgres(postgresUrl)) ? 'up' : 'down';

  const brokers = process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  process.env.TEST_KAFKA_BROKERS = brokers;
  process.env.CL_TEST_KAFKA = (await canConnect(brokers.split(',')[0])) ? 'up' : 'down';

  const down = [
    process.env.CL_TEST_POSTGRES === 'down' ? `PostgreSQL (${postgresUrl})` : undefined,
    process.env.CL_TEST_KAFKA === 'down' ? `Kafka (${brokers})` : undefined,
  ].filter(Boolean);
  if (down.length > 0) {
    process.stdout.write(`\n[consent-ledger] not reachable, their suites are skipped: ${down.join(', ')}\n`);
  }
  if (!process.env.EVENTSTORE_URL) {
    process.stdout.write(
      '\n[consent-ledger] KurrentDB contract suite not run: EVENTSTORE_URL is not set (no KurrentDB server can run on this machine).\n',
    );
  }
}

async function canQueryPostgres(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function canConnect(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.connect(Number(port), host, () => finish(true));
  });
}
