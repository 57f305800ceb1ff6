import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../../test/support/services';
import { type ServiceProcess, startServiceProcess } from '../testing/service-process';
import { type ApiResponse, callApi, commandJson, type Json, TEST_GRANTS } from '../testing/test-api';

interface SentCommand {
  readonly json: Json;
  readonly idempotencyKey: string;
  acknowledged?: ApiResponse;
}

const burstOf = (subjects: number): SentCommand[] =>
  Array.from({ length: subjects }, (_, index) => `crash-${index}`).flatMap((subjectId) =>
    [
      commandJson.startRelationship(subjectId),
      commandJson.giveConsent(subjectId),
      commandJson.restrictChannel(subjectId, { channel: 'email' }),
      commandJson.optOutSource(subjectId, { source: 'tv-viewing' }),
      commandJson.object(subjectId, { purpose: 'direct-marketing' }),
    ].map((json, index) => ({ json, idempotencyKey: `${subjectId}-${index}` })),
  );

/**
 * Fires the burst with `width` requests in flight and SIGKILLs the service once `killAfter`
 * commands are acknowledged. Requests cut off by the kill are simply not acknowledged.
 */
async function burstUntilKilled(service: ServiceProcess, burst: SentCommand[], width: number, killAfter: number): Promise<void> {
  let next = 0;
  let acknowledged = 0;
  let killing: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < burst.length && !killing) {
        const command = burst[next++];
        try {
          const response = await callApi(service.url, 'POST', '/v1/commands', { body: command.json, headers: { 'idempotency-key': command.idempotencyKey } });
          if (response.status === 201 || response.status === 200) {
            command.acknowledged = response;
            acknowledged += 1;
            if (acknowledged >= killAfter) killing ??= service.kill('SIGKILL');
          }
        } catch {
          // Connection cut by the kill: not acknowledged.
        }
      }
    }),
  );
  await (killing ?? service.kill('SIGKILL'));
}

async function storedEventIds(url: string, subjects: Iterable<string>): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const subjectId of subjects) {
    const history = await callApi(url, 'GET', `/v1/subjects/${subjectId}/history`);
    for (const event of history.body.events) ids.add(event.eventId);
  }
  return ids;
}

const headOf = async (url: string, subjects: Iterable<string>) => (await storedEventIds(url, subjects)).size;

function survivingSigkill(environment: () => Promise<{ env: Record<string, string>; cleanUp(): Promise<void> }>) {
  it('keeps every acknowledged command after a SIGKILL mid-burst, and retries of the same keys add nothing', async () => {
    const { env, cleanUp } = await environment();
    let service: ServiceProcess | undefined;
    try {
      service = await startServiceProcess(env);
      const burst = burstOf(80);
      await burstUntilKilled(service, burst, 48, 150);
      const acknowledged = burst.filter((command) => command.acknowledged);
      expect(acknowledged.length).toBeGreaterThanOrEqual(150);
      expect(acknowledged.length).toBeLessThan(burst.length);

      service = await startServiceProcess(env);
      const subjects = new Set(burst.map((command) => command.json.subjectId as string));
      const stored = await storedEventIds(service.url, subjects);
      for (const command of acknowledged) {
        for (const event of command.acknowledged!.body.events) expect(stored.has(event.id)).toBe(true);
      }

      const storedBeforeRetries = stored.size;
      for (const command of acknowledged) {
        const retry = await callApi(service.url, 'POST', '/v1/commands', { body: command.json, headers: { 'idempotency-key': command.idempotencyKey } });
        expect([retry.status, retry.body]).toEqual([command.acknowledged!.status, command.acknowledged!.body]);
      }
      expect(await headOf(service.url, subjects)).toBe(storedBeforeRetries);

      // Unacknowledged commands may or may not have made it; retried, each is recorded exactly once.
      const retries = await Promise.all(
        burst
          .filter((each) => !each.acknowledged)
          .map((command) => callApi(service!.url, 'POST', '/v1/commands', { body: command.json, headers: { 'idempotency-key': command.idempotencyKey } })),
      );
      expect(retries.filter((retry) => retry.status !== 200 && retry.status !== 201)).toEqual([]);
      const storedAfterAll = await headOf(service.url, subjects);
      expect(storedAfterAll).toBe(burst.length);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- service output ---\n${service?.output() ?? ''}`);
    } finally {
      await service?.kill('SIGTERM');
      await cleanUp();
    }
  }, 120_000);
}

function serviceEnv(extra: Record<string, string>): Record<string, string> {
  return {
    CONSENT_API_KEYS: JSON.stringify(TEST_GRANTS),
    MASTER_KEY: randomBytes(32).toString('base64'),
    ...extra,
  };
}

describe('crash recovery on SQLite', () =>
  survivingSigkill(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'consent-crash-'));
    return { env: serviceEnv({ EVENT_STORE: 'sqlite', DATA_DIR: dataDir }), cleanUp: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }));

describeWithPostgres('crash recovery on PostgreSQL', () =>
  survivingSigkill(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'consent-crash-'));
    const schema: TestSchema = await createTestSchema('cl_crash');
    return {
      env: serviceEnv({ EVENT_STORE: 'postgres', DATABASE_URL: schema.url, DATA_DIR: dataDir }),
      cleanUp: async () => {
        await schema.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }));
