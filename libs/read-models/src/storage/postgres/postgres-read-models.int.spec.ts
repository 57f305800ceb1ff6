import { describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import type { Instant, SubjectId } from '@consent-ledger/domain';
import { catalogue, relationshipStarted } from '@consent-ledger/domain/testing';
import { openPostgresEventStore } from '@consent-ledger/event-store';
import { postgresBehindProxy } from '../../../../../test/support/postgres-behind-proxy';
import { createTestSchema, describeWithPostgres, withClient } from '../../../../../test/support/services';
import { planEvents } from '../../change-set';
import { startProjections } from '../../projection-runner';
import { ProjectedReadModels } from '../../read-models';
import { leadRole } from '../../role-leadership';
import { runReadModelsContract } from '../../testing/read-models.contract';
import { asNewEvent, ledgerStream } from '../../testing/stored-events';
import { READ_MODELS_CHECKPOINT, type Planner, republicationMarkerOf } from '../read-model-storage';
import { migratePostgresReadModels } from './postgres-migrations';
import { PostgresReadModelStorage } from './postgres-read-model-storage';

describeWithPostgres('read models in PostgreSQL', () => {
  runReadModelsContract(async () => {
    const schema = await createTestSchema('cl_read_models');
    const store = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
    const storage = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 3 });
    const others: PostgresReadModelStorage[] = [];
    const readModels = new ProjectedReadModels({ storage, catalogue, store });
    const sql = async (text: string) => {
      await withClient(schema.url, (client) => client.query(text));
    };
    return {
      store,
      readModels,
      async openAnother() {
        const other = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2 });
        others.push(other);
        return other;
      },
      async crashBeforeCommit() {
        await sql(`CREATE FUNCTION simulated_crash() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN RAISE EXCEPTION 'simulated crash before commit'; END $$;
                   CREATE TRIGGER simulated_crash BEFORE UPDATE ON rm_checkpoints FOR EACH ROW
                   WHEN (NEW.name = 'read-models') EXECUTE FUNCTION simulated_crash()`);
      },
      async recover() {
        await sql('DROP TRIGGER simulated_crash ON rm_checkpoints; DROP FUNCTION simulated_crash()');
      },
      async deleteCheckpointRow(name) {
        await withClient(schema.url, (client) => client.query('DELETE FROM rm_checkpoints WHERE name = $1', [name]));
      },
      async dispose() {
        await readModels.close();
        await Promise.all(others.map((other) => other.close()));
        await storage.close();
        await store.close();
        await schema.drop();
      },
    };
  });

  describe('another process waiting for the checkpoint', () => {
    /** A projecting process and another that only waits, each with its own connections. */
    async function twoProcesses() {
      const schema = await createTestSchema('cl_read_models');
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      const storage = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2 });
      const readModels = new ProjectedReadModels({ storage, catalogue, store });
      const waiterName = `cl-waiter-${process.pid}-${Date.now()}`;
      const other = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2, applicationName: waiterName });
      let projections: ReturnType<typeof startProjections> | undefined;
      let subjects = 0;
      return {
        readModels,
        other,
        project: () => (projections ??= startProjections({ readModels, store, sweepEveryMs: 0 })),
        async record() {
          const started = relationshipStarted({ subjectId: `waited-for-${++subjects}` as SubjectId, occurredAt: '2024-05-01T09:00:00Z' });
          return (await store.append(ledgerStream(started.data.subjectId), [asNewEvent(started)], { expectedRevision: 'any' })).position;
        },
        /** What a restarted server or a network cut does to the waiter's LISTEN connection. */
        dropWaiterListenConnection: () =>
          withClient(schema.url, (client) =>
            client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`${waiterName}-listen`]),
          ),
        async close() {
          await projections?.stop();
          await readModels.close();
          await Promise.all([other.close(), storage.close(), store.close()]);
          await schema.drop();
        },
      };
    }

    it('is told of a move made while it was still starting to listen', async () => {
      const processes = await twoProcesses();
      const position = await processes.record();
      // The projector commits only while the waiter is opening its LISTEN, so the NOTIFY of that
      // commit reaches nobody: the waiter must learn of it by reading the checkpoint afterwards.
      const listeningLate = Object.assign(Object.create(processes.other) as PostgresReadModelStorage, {
        async watchCheckpoint(...args: Parameters<PostgresReadModelStorage['watchCheckpoint']>) {
          processes.project();
          await processes.readModels.waitFor(position, 5000);
          return processes.other.watchCheckpoint(...args);
        },
      });
      // No poll to fall back on within the wait: only reading after LISTEN can pass.
      const elsewhere = new ProjectedReadModels({ storage: listeningLate, catalogue, recheckEveryMs: 60_000 });
      try {
        await expect(elsewhere.waitFor(position, 5000)).resolves.toBeUndefined();
      } finally {
        await elsewhere.close();
        await processes.close();
      }
    });

    it('is still told of moves after its LISTEN connection was dropped', async () => {
      const processes = await twoProcesses();
      const elsewhere = new ProjectedReadModels({ storage: processes.other, catalogue });
      try {
        processes.project();
        await elsewhere.waitFor(await processes.record(), 5000);
        await processes.dropWaiterListenConnection();
        await expect(elsewhere.waitFor(await processes.record(), 5000)).resolves.toBeUndefined();
        await expect(elsewhere.waitFor(await processes.record(), 5000)).resolves.toBeUndefined();
      } finally {
        await elsewhere.close();
        await processes.close();
      }
    });
  });

  // Found in review: the leader frozen mid-batch kept the checkpoint row locked; the instance that
  // took its lease applied nothing (and audience questions answered 503) until it was woken.
  it('ends the transaction of a writer frozen mid-batch, so the next writer is not held up by it', async () => {
    const schema = await createTestSchema('cl_rm_frozen');
    const store = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
    const frozenWriter = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2, idleInTransactionTimeoutMs: 1000 });
    const nextWriter = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2, idleInTransactionTimeoutMs: 1000 });
    try {
      const started = relationshipStarted({ subjectId: 'frozen-1' as SubjectId });
      await store.append(ledgerStream(started.data.subjectId), [asNewEvent(started)], { expectedRevision: 'any' });
      const events = await store.readAll({ after: 0n, maxCount: 10 });
      const plan: Planner = (checkpoint, views) => planEvents(checkpoint, views, events, catalogue);

      // Frozen inside its transaction, lock held: nothing of the process runs (what SIGSTOP does).
      const frozen = frozenWriter.applyEvents(events, (checkpoint, views) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
        return plan(checkpoint, views);
      });
      await expect(frozen).rejects.toThrow();
      await expect(nextWriter.applyEvents(events, plan)).resolves.toMatchObject({ checkpoint: events[events.length - 1].position });
    } finally {
      await Promise.all([frozenWriter.close(), nextWriter.close(), store.close()]);
      await schema.drop();
    }
  });

  describe('a page of a republication', () => {
    const sweptUpTo = () => new Date(Date.now() - 60_000).toISOString() as Instant;

    /** Read models holding three subjects, a feed marked for republication, and a connection of its own (another process). */
    async function threeSubjectsAndAMarker() {
      const schema = await createTestSchema('cl_rm_republish');
      const applicationName = `cl-republisher-${process.pid}-${Date.now()}`;
      const storage = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 2, applicationName });
      const other = new Client({ connectionString: schema.url });
      await other.connect();
      await other.query(`INSERT INTO rm_subjects (subject_id, brand, ledger, last_position, last_occurred_at, evaluated_at, erased)
                         SELECT 'subject-' || n, 'proximus', '{}', n, now(), now(), false FROM generate_series(1, 3) AS n;
                         INSERT INTO rm_checkpoints (name, position) VALUES ('${republicationMarkerOf('feed-x')}', 3)`);
      return {
        storage,
        other,
        isPageWaitingOnALock: async () =>
          (await other.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = $2', [applicationName, 'Lock'])).rowCount === 1,
        async close() {
          await other.end().catch(() => undefined);
          await storage.close();
          await schema.drop();
        },
      };
    }

    // The projection holds the checkpoint row for the whole of each batch; a republication used to
    // take it too, for one statement inserting every subject, and commands waited behind it.
    it('goes in while the projection holds the checkpoint lock', async () => {
      const readModels = await threeSubjectsAndAMarker();
      try {
        await readModels.other.query(`BEGIN; SELECT position FROM rm_checkpoints WHERE name = '${READ_MODELS_CHECKPOINT}' FOR UPDATE`);
        const page = readModels.storage.enqueueRepublicationPage('feed-x', 3n, sweptUpTo(), 2);
        let timer: NodeJS.Timeout | undefined;
        const heldUp = new Promise((resolve) => (timer = setTimeout(() => resolve('held up by the checkpoint lock'), 5000)));
        expect(await Promise.race([page, heldUp]).finally(() => clearTimeout(timer))).toEqual({ kind: 'queued', queued: 2, isLast: false });
      } finally {
        await readModels.other.query('ROLLBACK').catch(() => undefined);
        await readModels.close();
      }
    });

    it('waits for an outbox insert not yet committed, so no feed passes that row before it is there', async () => {
      const readModels = await threeSubjectsAndAMarker();
      try {
        // What the sweep does inside its transaction: its row has drawn a sequence, not committed yet.
        await readModels.other.query(`BEGIN; INSERT INTO rm_state_changes (subject_id, changed_at) VALUES ('subject-3', now())`);
        const page = readModels.storage.enqueueRepublicationPage('feed-x', 3n, sweptUpTo(), 2);
        let isPageDone = false;
        void page.finally(() => (isPageDone = true)).catch(() => undefined);
        const deadline = Date.now() + 5000;
        while (!isPageDone && !(await readModels.isPageWaitingOnALock()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        expect({ isPageDone, isPageWaitingOnALock: await readModels.isPageWaitingOnALock() }).toEqual({ isPageDone: false, isPageWaitingOnALock: true });

        await readModels.other.query('COMMIT');
        expect(await page).toEqual({ kind: 'queued', queued: 2, isLast: false });
        const { changes } = await readModels.storage.pendingStateChanges('feed-x', 10);
        expect(changes.map((change) => change.subjectId)).toEqual(['subject-3', 'subject-1', 'subject-2']);
      } finally {
        await readModels.other.query('ROLLBACK').catch(() => undefined);
        await readModels.close();
      }
    });
  });

  // The rebuild decides memberships again, and a member the new rules never admit gets no row:
  // the republication tells partners such a subject left only if it knows they heard of it.
  it('remembers which subjects the partners heard of before a new version rebuilds', async () => {
    const schema = await createTestSchema('cl_rm_heard');
    try {
      await (await PostgresReadModelStorage.open({ url: schema.url, poolSize: 1 })).close();
      await withClient(schema.url, (client) =>
        client.query(`INSERT INTO rm_audience_members (audience, subject_id, member, since, valid_until, changed_at_position)
                      VALUES ('ads-and-data', 'subject-1', true, '2024-05-01T09:00:00Z', NULL, 40);
                      DELETE FROM rm_schema_migrations WHERE version = 3`),
      );
      await (await PostgresReadModelStorage.open({ url: schema.url, poolSize: 1 })).close();
      const heard = await withClient(schema.url, (client) => client.query('SELECT audience, subject_id FROM rm_audience_heard'));
      expect(heard.rows).toEqual([{ audience: 'ads-and-data', subject_id: 'subject-1' }]);
    } finally {
      await schema.drop();
    }
  });

  // Found in review: rm_decisions held the decisions of one brand per subject, the one whose
  // contract started last, so its key had no room for the other brand's.
  it('keys the decision rows by brand from version 16 on, rebuilt, keeping the views SQL consumers made of them', async () => {
    const schema = await createTestSchema('cl_rm_brands');
    try {
      await withClient(schema.url, async (client) => {
        await migratePostgresReadModels(client, 15);
        await client.query(`UPDATE rm_checkpoints SET position = 42 WHERE name = 'read-models';
                            INSERT INTO rm_checkpoints (name, position) VALUES ('consent-feed', 42);
                            INSERT INTO rm_decisions (subject_id, purpose, allowed, reason, legal_basis, based_on, consented_channels, restricted_channels, opted_out_sources)
                            VALUES ('subject-1', 'enjoy-loyalty-programme', false, 'not-applicable-to-brand', 'legitimate-interest', '[]', '{}', '{}', '{}');
                            CREATE VIEW campaign_loyalty AS SELECT subject_id FROM rm_decisions WHERE purpose = 'enjoy-loyalty-programme' AND allowed`);
      });
      const upgraded = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 1 });
      try {
        expect(await upgraded.checkpoint()).toBe(0n);
        expect(await upgraded.checkpoint(republicationMarkerOf('consent-feed'))).toBe(42n);
      } finally {
        await upgraded.close();
      }
      await withClient(schema.url, async (client) => {
        expect((await client.query('SELECT count(*)::int AS n FROM rm_decisions')).rows).toEqual([{ n: 0 }]);
        const key = await client.query(
          `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
           WHERE i.indrelid = 'rm_decisions'::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
        );
        expect(key.rows.map((row) => row.attname)).toEqual(['subject_id', 'brand', 'purpose']);
        expect((await client.query('SELECT count(*)::int AS n FROM campaign_loyalty')).rows).toEqual([{ n: 0 }]);
      });
    } finally {
      await schema.drop();
    }
  });

  it('has every feed that had published publish everyone again when a new version rebuilds', async () => {
    const schema = await createTestSchema('cl_rm_upgrade');
    try {
      await (await PostgresReadModelStorage.open({ url: schema.url, poolSize: 1 })).close();
      // A schema kept by the previous version: a feed that had published, the last migration not yet applied.
      await withClient(schema.url, (client) =>
        client.query(`INSERT INTO rm_checkpoints (name, position) VALUES ('consent-feed', 42), ('consent-feed:idle.', 0);
                      UPDATE rm_checkpoints SET position = 42 WHERE name = 'read-models';
                      DELETE FROM rm_schema_migrations WHERE version = 6`),
      );
      const upgraded = await PostgresReadModelStorage.open({ url: schema.url, poolSize: 1 });
      try {
        expect(await upgraded.checkpoint()).toBe(0n);
        expect(await upgraded.checkpoint(republicationMarkerOf('consent-feed'))).toBe(42n);
        expect(await upgraded.checkpoint(republicationMarkerOf('consent-feed:idle.'))).toBe(0n);
      } finally {
        await upgraded.close();
      }
    } finally {
      await schema.drop();
    }
  });
});

// An audience decision reads the subjects' ledgers here: sent into a network cut that keeps the
// connection open, the read waited for as long as the cut lasted, then until TCP's retransmission
// got through (found in SRE review).
describeWithPostgres('read models in PostgreSQL when PostgreSQL stops answering on open connections', () => {
  const ANSWER_TIMEOUT_MS = 1000;

  it("fails a decision's read of the ledgers within the answer timeout, and reads at once on other connections once the network heals", async () => {
    const database = await postgresBehindProxy('cl_rm_cut');
    const storage = await PostgresReadModelStorage.open({ url: database.url, poolSize: 2, answerTimeoutMs: ANSWER_TIMEOUT_MS });
    try {
      await storage.ledgers(['subject-1']);

      database.proxy.freeze();
      const asked = Date.now();
      await expect(storage.ledgers(['subject-1'])).rejects.toThrow('Query read timeout');
      expect(Date.now() - asked).toBeLessThan(ANSWER_TIMEOUT_MS + 1500);

      // TCP's retransmission backoff: the connection cut off stays stuck for longer than the test.
      database.proxy.heal(120_000);
      for (let round = 0; round < 3; round += 1) {
        const readAt = Date.now();
        expect(await storage.ledgers(['subject-1'])).toEqual({ ledgers: new Map(), appliedUpTo: 0n });
        expect(Date.now() - readAt).toBeLessThan(ANSWER_TIMEOUT_MS);
      }
    } finally {
      await database.proxy.restore();
      await storage.close();
      await database.close();
    }
  });
});

// The lease's renewal had no answer timeout: sent into such a cut it waited with the cut, the
// leader never stepped down (its standby took the role once the lease ran out, while /health still
// showed this instance leading), and stopping the projector waited with it.
describeWithPostgres('leading a role by a lease in PostgreSQL when PostgreSQL stops answering on open connections', () => {
  it('steps down within the lease, and stops at once', async () => {
    const database = await postgresBehindProxy('cl_rm_lease_cut');
    const storage = await PostgresReadModelStorage.open({ url: database.url, poolSize: 2 });
    const deposed: number[] = [];
    const role = leadRole({
      storage,
      role: 'read-models',
      holder: 'instance-a',
      ttlMs: 1500,
      renewEveryMs: 300,
      onElected: () => undefined,
      onDeposed: () => void deposed.push(Date.now()),
    });
    try {
      await role.firstAttempt;
      expect(role.isLeader).toBe(true);

      database.proxy.freeze();
      const frozenAt = Date.now();
      await waitUntil(() => deposed.length > 0, 5000);
      expect(role.isLeader).toBe(false);
      // At most one renewal interval plus the lease it would have been given.
      expect(deposed[0] - frozenAt).toBeLessThan(300 + 1500 + 500);

      const stopping = Date.now();
      await role.stop();
      expect(Date.now() - stopping).toBeLessThan(2000);
    } finally {
      await role.stop();
      await database.proxy.restore();
      await storage.close();
      await database.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
