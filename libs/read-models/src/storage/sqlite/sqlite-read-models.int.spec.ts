import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogue } from '@consent-ledger/domain/testing';
import { openSqliteEventStore } from '@consent-ledger/event-store';
import { ProjectedReadModels } from '../../read-models';
import { runReadModelsContract } from '../../testing/read-models.contract';
import { SqliteReadModelStorage } from './sqlite-read-model-storage';
import { migrateSqliteReadModels } from './sqlite-migrations';
import { republicationMarkerOf } from '../read-model-storage';

describe('read models in SQLite (embedded mode)', () => {
  runReadModelsContract(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-read-models-'));
    const file = join(directory, 'state.sqlite');
    const store = openSqliteEventStore({ file: join(directory, 'events.sqlite'), pollIntervalMs: 50 });
    const storage = new SqliteReadModelStorage({ file });
    const others: SqliteReadModelStorage[] = [];
    const readModels = new ProjectedReadModels({ storage, catalogue, store });
    const admin = () => new Database(file);
    return {
      store,
      readModels,
      async openAnother() {
        const other = new SqliteReadModelStorage({ file });
        others.push(other);
        return other;
      },
      async crashBeforeCommit() {
        const db = admin();
        db.exec(`CREATE TRIGGER simulated_crash BEFORE UPDATE ON rm_checkpoints WHEN NEW.name = 'read-models'
                 BEGIN SELECT RAISE(ABORT, 'simulated crash before commit'); END`);
        db.close();
      },
      async recover() {
        const db = admin();
        db.exec('DROP TRIGGER simulated_crash');
        db.close();
      },
      async deleteCheckpointRow(name) {
        const db = admin();
        db.prepare('DELETE FROM rm_checkpoints WHERE name = ?').run(name);
        db.close();
      },
      async dispose() {
        await readModels.close();
        await Promise.all(others.map((other) => other.close()));
        await storage.close();
        await store.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  });
});

describe('read models in SQLite, upgraded', () => {
  it('have every feed that had published publish everyone again when a new version rebuilds', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-read-models-'));
    const file = join(directory, 'state.sqlite');
    try {
      await new SqliteReadModelStorage({ file }).close();
      const db = new Database(file);
      db.exec(`INSERT INTO rm_checkpoints (name, position) VALUES ('consent-feed', 42); DELETE FROM rm_schema_migrations WHERE version = 6`);
      db.close();

      const upgraded = new SqliteReadModelStorage({ file });
      expect(await upgraded.checkpoint(republicationMarkerOf('consent-feed'))).toBe(42n);
      await upgraded.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  // The rebuild decides memberships again, and a member the new rules never admit gets no row:
  // the republication tells partners such a subject left only if it knows they heard of it.
  it('remember which subjects the partners heard of before a new version rebuilds', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-read-models-'));
    const file = join(directory, 'state.sqlite');
    try {
      await new SqliteReadModelStorage({ file }).close();
      const db = new Database(file);
      db.exec(`DELETE FROM rm_audience_heard; DELETE FROM rm_schema_migrations WHERE version = 3`);
      db.prepare('INSERT INTO rm_audience_members (audience, subject_id, member, since, valid_until, changed_at_position) VALUES (?, ?, ?, ?, ?, ?)').run('ads-and-data', 'subject-1', 1, '2024-05-01T09:00:00.000Z', null, 40);
      db.close();

      await new SqliteReadModelStorage({ file }).close();
      const after = new Database(file);
      expect(after.prepare('SELECT audience, subject_id FROM rm_audience_heard').all()).toEqual([{ audience: 'ads-and-data', subject_id: 'subject-1' }]);
      after.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  // Found in review: rm_decisions held the decisions of one brand per subject, the one whose
  // contract started last, so its key had no room for the other brand's.
  it('key the decision rows by brand from version 16 on, rebuilt, and have every feed publish everyone again', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-read-models-'));
    const file = join(directory, 'state.sqlite');
    try {
      const kept = new Database(file);
      migrateSqliteReadModels(kept, 15);
      kept.exec(`UPDATE rm_checkpoints SET position = 42 WHERE name = 'read-models'; INSERT INTO rm_checkpoints (name, position) VALUES ('consent-feed', 42)`);
      kept
        .prepare(
          `INSERT INTO rm_decisions (subject_id, purpose, allowed, reason, legal_basis, valid_until, based_on, channels, consented_channels, restricted_channels, opted_out_sources, changes_at)
           VALUES ('subject-1', 'enjoy-loyalty-programme', 0, 'not-applicable-to-brand', 'legitimate-interest', NULL, '[]', '[]', '[]', '[]', '[]', NULL)`,
        )
        .run();
      kept.close();

      const upgraded = new SqliteReadModelStorage({ file });
      expect(await upgraded.checkpoint()).toBe(0n);
      expect(await upgraded.checkpoint(republicationMarkerOf('consent-feed'))).toBe(42n);
      await upgraded.close();
      const after = new Database(file);
      expect(after.prepare('SELECT count(*) AS n FROM rm_decisions').get()).toEqual({ n: 0 });
      expect(after.prepare(`SELECT name FROM pragma_table_info('rm_decisions') WHERE pk > 0 ORDER BY pk`).all()).toEqual([{ name: 'subject_id' }, { name: 'brand' }, { name: 'purpose' }]);
      expect(after.prepare(`SELECT name FROM pragma_table_info('rm_subjects') WHERE name = 'brands'`).all()).toEqual([{ name: 'brands' }]);
      after.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('rebuild from the start of the log when a new version decides differently', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-read-models-'));
    const file = join(directory, 'state.sqlite');
    try {
      await new SqliteReadModelStorage({ file }).close();
      // A file kept by the previous version: rows and a checkpoint, migration 3 not yet applied.
      const db = new Database(file);
      db.exec(`UPDATE rm_checkpoints SET position = 42 WHERE name = 'read-models'; DELETE FROM rm_schema_migrations WHERE version = 3`);
      db.prepare('INSERT INTO rm_audience_members (audience, subject_id, member, since, valid_until, changed_at_position) VALUES (?, ?, ?, ?, ?, ?)').run('pickx-tv-ads', 'subject-1', 1, '2024-05-01T09:00:00.000Z', null, 40);
      db.close();

      const upgraded = new SqliteReadModelStorage({ file });
      expect(await upgraded.checkpoint()).toBe(0n);
      await upgraded.close();
      const after = new Database(file);
      expect(after.prepare('SELECT count(*) AS n FROM rm_audience_members').get()).toEqual({ n: 0 });
      after.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
