import { setTimeout as sleep } from 'node:timers/promises';
import { checkOutClient, connectionWaitMs, inTransaction, isLockTimeout, watchAnswers, withAnswerTimeout, withSessionSetting } from '@consent-ledger/event-store';
import { Pool, type PoolClient } from 'pg';
import { DESTROYED, EnvelopeVault, type KeyRows, KeyStoreMissing, type StoredKey, type WrappedKeyRow } from '../envelope/envelope-vault';
import type { KeyCacheOptions } from '../envelope/key-cache';
import { SCRUBBED, type ScrubHolder, type ScrubStatus } from '../personal-data-vault.port';

export interface PostgresVaultOptions {
  readonly url: string;
  readonly masterKey: Buffer;
  /** A schema of its own for the key tables; by default the connection's search_path. */
  readonly schema?: string;
  readonly cache?: KeyCacheOptions;
  /** How long a seal, read or destroy waits for a lock on the key table (default `KEY_LOCK_TIMEOUT`). */
  readonly lockTimeout?: string;
  /**
   * Opens only key tables a vault already opened (they hold the master key's fingerprint), failing
   * with `KeyStoreMissing` instead of creating them: for readers of the service's keys.
   */
  readonly existingOnly?: boolean;
  /**
   * How long a command's seal (finding or storing the subject's key) waits for PostgreSQL's
   * answer before its connection is closed and the command answered 503 (see the event store's
   * answer-timeout.ts); also bounds the wait for a connection. Unset: as long as it takes. Destroys,
   * forgets and scrubs have none: they wait for their locks however long it takes (below).
   */
  readonly answerTimeoutMs?: number;
  /**
   * For a process nobody is there to stop (the auditor CLI): every statement is given up once
   * PostgreSQL has been silent on it this long and cannot say it is still working on it (the
   * event store's answer-watch.ts). A scrub or a destroy that PostgreSQL is busy with, or that
   * waits for its lock, goes on for as long as it takes. Also bounds the wait for a connection,
   * but for a destroy's or scrub's while every connection is held by others waiting for their locks.
   */
  readonly silenceTimeoutMs?: number;
  /**
   * Told when a scrub is left pending, naming the transactions that keep destroyed keys' bytes on
   * disk, and when those bytes are gone after that. Unset: nothing is said (`scrubStatus` still tells).
   */
  readonly log?: ScrubLog;
  /** How often a pending scrub is tried again (default `SCRUB_RETRY_MS`). */
  readonly scrubRetryMs?: number;
}

export interface ScrubLog {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * How long a scrub waits for the transactions begun before a destroy to end. On a database that
 * also holds the log and the read models some statement is nearly always under way, begun before
 * the destroy committed, and a rewrite then keeps the key's bytes (found on a loaded machine: every
 * key destroyed while three sessions ran 20 ms statements stayed in the file); such statements end
 * within milliseconds. A longer one (a dump, a report, an idle transaction) leaves the scrub pending.
 */
const SCRUB_WAIT_MS = 2_000;

/**
 * How often every process with the vault looks for a pending scrub, its own or one another process
 * left (the auditor CLI's retention run, or a process that stopped), and tries it again.
 */
export const SCRUB_RETRY_MS = 60_000;

/**
 * How long the rewrite waits for its exclusive lock before it is left pending. Every seal and read
 * queues behind it while it waits, and a session may hold a lock on the table without holding the
 * horizon back: a dump begun after the destroy (met by the retries every minute), a session idle in
 * a READ COMMITTED transaction that read the table. Waiting for those as long as they lasted
 * answered every seal 503 meanwhile, and held the erasure's answer. Well under `KEY_LOCK_TIMEOUT`,
 * so that a seal queued behind it still gets its key.
 */
const SCRUB_LOCK_TIMEOUT = '1s';

/**
 * A session holding a lock on the key table this long is named as what keeps a scrub pending, and
 * the rewrite is not tried while it does; a seal's or a read's lock lasts milliseconds.
 */
const LONG_LOCK_MS = 1_000;

/**
 * A scrub (VACUUM FULL) takes the key table from every seal and read while it rewrites it: about
 * 0.3 s at 10⁵ keys and 3 s at 10⁶ (ADR 0006), which a command may well wait out. Much longer is
 * a stuck session, or a scrub queued behind another session's long lock on the table: the statement
 * then fails as unavailable (503, retry) instead of hanging the request for as long as that lasts.
 * Longer than the event store's `REQUEST_LOCK_TIMEOUT`, whose locks are held for milliseconds.
 */
export const KEY_LOCK_TIMEOUT = '10s';

/** A subject's key, or the record that it was destroyed (`destroyed_at`, and nulls for the key's columns). */
type KeyRow =
  | { subject_id: string; key_id: string; wrapped_key: Buffer; master_key_id: string; created_at: Date; destroyed_at: null }
  | { subject_id: string; key_id: null; wrapped_key: null; master_key_id: null; created_at: null; destroyed_at: Date };

/**
 * Keys in a PostgreSQL table of their own. A DELETE only marks the tuple dead, and a plain VACUUM
 * can leave its bytes in the page's free space, so each destroy is followed by VACUUM FULL of
 * this small table, which rewrites it into a new file and drops the old one. The WAL still holds
 * the insert until its segments are recycled: WAL archives are backups (docs/decisions/0006).
 *
 * The rewrite copies every row version a transaction of the database may still see, so a key's old
 * version outlives it while a transaction older than the destroy runs. Each destroy therefore
 * records, in its own transaction, that a scrub is owed past its transaction id, and the scrub
 * rewrites only once no session, prepared transaction or replication slot holds back past it; until
 * then it stays owed (`scrubStatus`), and is tried again every `SCRUB_RETRY_MS`.
 *
 * A destroyed key's row stays, emptied of the key and dated `destroyed_at`: the primary key then
 * makes a seal racing the destruction in another process either come first and be overwritten,
 * or conflict with the record of the destruction: no key is inserted after it.
 */
export async function openPostgresVault(options: PostgresVaultOptions): Promise<EnvelopeVault> {
  const rows = new PostgresKeyRows(options);
  try {
    if (options.existingOnly && !(await rows.holdsVault())) throw new KeyStoreMissing(rows.where);
    await rows.migrate();
  } catch (error) {
    await rows.close();
    throw error;
  }
  const vault = await EnvelopeVault.open(rows, options.masterKey, options.cache);
  rows.startScrubRetries();
  return vault;
}

/**
 * Connections for destroys, forgets and scrubs, which wait for their locks however long it takes,
 * apart from the seals' and reads' four: a proof-retention run destroys a batch of a hundred keys at
 * once, and while those waited behind another session's lock they held every connection, so a
 * command sealing contact details waited for one and was answered 503 (found in review).
 */
const DESTROY_CONNECTIONS = 2;

class PostgresKeyRows implements KeyRows {
  readonly where: string;
  /** Seals and reads, which give up after their timeout. */
  private readonly pool: Pool;
  /** Destroys, forgets and scrubs (DESTROY_CONNECTIONS). */
  private readonly destroysPool: Pool;
  private readonly keys: string;
  private readonly meta: string;
  /** Destroys whose key's bytes may still be in the key table's file: their transaction ids, no subject. */
  private readonly owedScrubs: string;
  private readonly schema?: string;
  private readonly answerTimeoutMs?: number;
  private scrubbing?: Promise<void>;
  private scrubAgain?: Promise<void>;
  private readonly log?: ScrubLog;
  private readonly scrubRetryMs: number;
  private retryTimer?: NodeJS.Timeout;
  private retrying?: Promise<void>;
  private isClosed = false;
  /** The holders last warned of, so that a pending scrub is not warned of again every retry. */
  private warnedOf?: string;

  constructor(options: PostgresVaultOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
      throw new TypeError(`not a plain schema name: ${options.schema}`);
    }
    this.schema = options.schema;
    const prefix = options.schema ? `${options.schema}.` : '';
    this.keys = `${prefix}personal_data_keys`;
    this.meta = `${prefix}personal_data_vault_meta`;
    this.owedScrubs = `${prefix}personal_data_scrubs_owed`;
    this.log = options.log;
    this.scrubRetryMs = options.scrubRetryMs ?? SCRUB_RETRY_MS;
    this.where = `PostgreSQL table ${this.keys}`;
    this.answerTimeoutMs = options.answerTimeoutMs;
    const givesUpAfterMs = options.answerTimeoutMs ?? options.silenceTimeoutMs;
    const poolOf = (max: number, applicationName: string): Pool => {
      const pool = new Pool({
        connectionString: withSessionSetting(options.url, 'lock_timeout', options.lockTimeout ?? KEY_LOCK_TIMEOUT),
        max,
        // Named, as every pool of the service is, for an operator reading pg_stat_activity.
        application_name: applicationName,
        ...(givesUpAfterMs !== undefined && { connectionTimeoutMillis: connectionWaitMs(givesUpAfterMs) }),
      });
      // An idle connection the server drops is reported here; without a listener it would crash the
      // process. The next query simply opens a new connection.
      pool.on('error', () => undefined);
      const { silenceTimeoutMs } = options;
      if (silenceTimeoutMs !== undefined) pool.on('connect', (client) => watchAnswers(client, { url: options.url, timeoutMs: silenceTimeoutMs }));
      return pool;
    };
    this.pool = poolOf(4, 'consent-ledger-personal-data');
    this.destroysPool = poolOf(DESTROY_CONNECTIONS, 'consent-ledger-personal-data-destroys');
  }

  /** Whether a vault was opened here: its tables exist and hold the master key's fingerprint. */
  async holdsVault(): Promise<boolean> {
    const { rows } = await this.pool.query<{ keys: string | null; meta: string | null }>('SELECT to_regclass($1) AS keys, to_regclass($2) AS meta', [this.keys, this.meta]);
    if (rows[0].keys === null || rows[0].meta === null) return false;
    return (await this.pool.query(`SELECT 1 FROM ${this.meta} WHERE name = 'master_key_id'`)).rowCount === 1;
  }

  async migrate(): Promise<void> {
    const client = await checkOutClient(this.pool);
    try {
      await client.query('BEGIN');
      // Start-up waits for another starter's set-up, and for the table, whatever the requests' lock_timeout.
      await client.query('SET LOCAL lock_timeout = 0');
      // Two processes starting together would otherwise race on CREATE TABLE IF NOT EXISTS.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('consent-ledger/personal-data-vault'))");
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.keys} (
          subject_id text PRIMARY KEY,
          key_id text,
          wrapped_key bytea,
          master_key_id text,
          created_at timestamptz,
          destroyed_at timestamptz,
          CONSTRAINT ${KEY_OR_ITS_DESTRUCTION}
        )`);
      const { rows } = await client.query(`SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'destroyed_at' AND NOT attisdropped`, [this.keys]);
      // A table made before destroyed keys were remembered. Checked first, because ALTER TABLE
      // takes the table from every seal for as long as it waits and runs, even with nothing to do.
      if (rows.length === 0) {
        await client.query(`
          ALTER TABLE ${this.keys}
            ALTER COLUMN key_id DROP NOT NULL,
            ALTER COLUMN wrapped_key DROP NOT NULL,
            ALTER COLUMN master_key_id DROP NOT NULL,
            ALTER COLUMN created_at DROP NOT NULL,
            ADD COLUMN destroyed_at timestamptz,
            ADD CONSTRAINT ${KEY_OR_ITS_DESTRUCTION}`);
      }
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.meta} (name text PRIMARY KEY, value text NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.owedScrubs} (destroyed_by xid8 NOT NULL, destroyed_at timestamptz NOT NULL DEFAULT now())`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async claimMasterKeyId(candidate: string): Promise<string> {
    await this.pool.query(`INSERT INTO ${this.meta} (name, value) VALUES ('master_key_id', $1) ON CONFLICT (name) DO NOTHING`, [candidate]);
    const { rows } = await this.pool.query<{ value: string }>(`SELECT value FROM ${this.meta} WHERE name = 'master_key_id'`);
    return rows[0].value;
  }

  async find(subjectId: string): Promise<StoredKey | undefined> {
    const { rows } = await this.pool.query<KeyRow>(withAnswerTimeout({ text: `SELECT * FROM ${this.keys} WHERE subject_id = $1`, values: [subjectId] }, this.answerTimeoutMs));
    return rows[0] && toStoredKey(rows[0]);
  }

  /**
   * One statement stores the row or reads the one already there: as two, an erasure deleting the
   * row in between left the caller with no key at all (a 500 for a command racing an erasure).
   * Asked again when the conflicting row is one this statement's snapshot cannot see yet.
   */
  async insertIfAbsent(row: WrappedKeyRow): Promise<StoredKey> {
    for (let attempt = 1; ; attempt += 1) {
      const { rows } = await this.pool.query<KeyRow>(
        withAnswerTimeout(
          {
            text: `WITH inserted AS (
           INSERT INTO ${this.keys} (subject_id, key_id, wrapped_key, master_key_id, created_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (subject_id) DO NOTHING
           RETURNING *
         )
         SELECT * FROM inserted UNION ALL SELECT * FROM ${this.keys} WHERE subject_id = $1 LIMIT 1`,
            values: [row.subjectId, row.keyId, row.wrappedKey, row.masterKeyId, row.createdAt],
          },
          this.answerTimeoutMs,
        ),
      );
      if (rows[0]) return toStoredKey(rows[0]);
      // Named so the command path answers 503 (retry), as for any storage that cannot serve.
      if (attempt === 3) throw Object.assign(new Error('the personal-data key could neither be stored nor found; try again'), { name: 'KeyStoreUnavailable' });
    }
  }

  /**
   * An upsert, not a DELETE and an INSERT: a seal's insert not yet committed is waited for, then
   * overwritten. `xmax = 0` tells a row this statement inserted (the subject had no key, there are
   * no bytes to scrub) from one it overwrote; a record already there is left as it is. The scrub it
   * owes is recorded in the same transaction, so that a process stopping before the scrub, or a
   * scrub left pending, leaves it to the next look of any process.
   */
  async destroy(subjectId: string): Promise<void> {
    const rows = await this.waitingForLocks<{ inserted: boolean }>(
      `WITH destroyed AS (
         INSERT INTO ${this.keys} (subject_id, destroyed_at) VALUES ($1, now())
         ON CONFLICT (subject_id) DO UPDATE
           SET key_id = NULL, wrapped_key = NULL, master_key_id = NULL, created_at = NULL, destroyed_at = EXCLUDED.destroyed_at
           WHERE ${this.keys}.destroyed_at IS NULL
         RETURNING xmax = 0 AS inserted
       ), owed AS (
         INSERT INTO ${this.owedScrubs} (destroyed_by) SELECT pg_current_xact_id() FROM destroyed WHERE NOT inserted
       )
       SELECT inserted FROM destroyed`,
      [subjectId],
    );
    if (rows[0]?.inserted === false) await this.scrub();
  }

  async forget(subjectId: string): Promise<void> {
    const rows = await this.waitingForLocks<{ held_key: boolean }>(
      `WITH forgotten AS (
         DELETE FROM ${this.keys} WHERE subject_id = $1 RETURNING destroyed_at IS NULL AS held_key
       ), owed AS (
         INSERT INTO ${this.owedScrubs} (destroyed_by) SELECT pg_current_xact_id() FROM forgotten WHERE held_key
       )
       SELECT held_key FROM forgotten`,
      [subjectId],
    );
    if (rows[0]?.held_key) await this.scrub();
  }

  /**
   * One statement, so a key inserted by a seal racing it is either there when it looks, and kept,
   * or inserted after the record is gone. The record holds no key bytes: nothing to scrub.
   */
  async forgetDestroyed(subjectId: string): Promise<boolean> {
    const rows = await this.waitingForLocks(`DELETE FROM ${this.keys} WHERE subject_id = $1 AND destroyed_at IS NOT NULL RETURNING subject_id`, [subjectId]);
    return rows.length > 0;
  }

  /** Read afresh from the database, so every process tells the same, whichever made the destroys. */
  async scrubStatus(): Promise<ScrubStatus> {
    const owed = await this.owedScrub(this.pool, this.answerTimeoutMs);
    if (!owed) return SCRUBBED;
    return { state: 'pending', owedSince: owed.since.toISOString(), heldBy: await this.holdersOf(this.pool, owed.through, this.answerTimeoutMs, LONG_LOCK_MS) };
  }

  /** Looks for a pending scrub every `scrubRetryMs` while the vault is open. */
  startScrubRetries(): void {
    this.retryTimer = setTimeout(() => {
      this.retrying = this.retryOwedScrub().finally(() => {
        this.retrying = undefined;
        if (!this.isClosed) this.startScrubRetries();
      });
    }, this.scrubRetryMs);
    this.retryTimer.unref();
  }

  private async retryOwedScrub(): Promise<void> {
    // One under way waits for the same holders; a destroy recorded after it began makes its own.
    if (this.scrubbing) return;
    try {
      if (await this.owedScrub(this.pool, this.answerTimeoutMs)) await this.scrub();
      else this.scrubbed();
    } catch (error) {
      this.log?.warn(`the scrub of destroyed personal-data keys in ${this.keys} could not be tried, tried again in ${this.scrubRetryMs / 1000} s: ${(error as Error).message}`);
    }
  }

  /**
   * Destroys and forgets wait for their lock however long it takes, as the scrub does: they run
   * once the erasure is in the log, and a destroy cut off by a dump's lock answered the erasure
   * 503 "nothing was recorded" and left the key readable. Seals give up after the timeout instead.
   */
  private waitingForLocks<Row extends object>(sql: string, values: readonly unknown[]): Promise<Row[]> {
    return inTransaction(this.destroysPool, 'BEGIN; SET LOCAL lock_timeout = 0', async (client) => (await client.query<Row>(sql, values as unknown[])).rows, { waitsForLocks: true });
  }


  async close(): Promise<void> {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    await Promise.allSettled([this.retrying, this.scrubbing, this.scrubAgain]);
    await Promise.all([this.pool.end().catch(() => undefined), this.destroysPool.end().catch(() => undefined)]);
  }

  /**
   * Destroys coming in together share rewrites: a caller waits for a VACUUM FULL that started
   * after its write committed, never for one already under way.
   */
  private scrub(): Promise<void> {
    if (!this.scrubbing) {
      this.scrubbing = this.scrubOwed().finally(() => {
        this.scrubbing = undefined;
      });
      return this.scrubbing;
    }
    this.scrubAgain ??= this.scrubbing
      .catch(() => undefined)
      .then(() => {
        this.scrubAgain = undefined;
        return this.scrub();
      });
    return this.scrubAgain;
  }

  /**
   * Rewrites the table once nothing holds back past the last destroy owed, then forgets the
   * destroys it covered (one recorded meanwhile stays owed, for its own scrub). A rewrite while
   * something does would keep the bytes, and its exclusive lock would queue every seal behind that
   * transaction's lock on the table (a dump holds one), so it is not tried.
   *
   * Nor is it while a session holds a lock on the table for long, and the rewrite waits for its
   * lock `SCRUB_LOCK_TIMEOUT` at most, then stays pending, naming who holds the table. VACUUM cannot
   * run in a transaction, where `SET LOCAL` would do, so the settings are the session's, and the
   * connection is closed afterwards rather than go back to the pool with them.
   */
  private async scrubOwed(): Promise<void> {
    const client = await checkOutClient(this.destroysPool, { waitsForLocks: true });
    try {
      await client.query('SET lock_timeout = 0');
      const owed = await this.owedScrub(client, undefined);
      if (!owed) return this.scrubbed();
      const heldBy = await this.holdersWithin(client, owed.through, SCRUB_WAIT_MS);
      if (heldBy.length > 0) return this.leftPending(owed.since, heldBy);
      await client.query(`SET lock_timeout = '${SCRUB_LOCK_TIMEOUT}'`);
      try {
        await client.query(`VACUUM FULL ${this.keys}`);
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        return this.leftPending(owed.since, await this.holdersOf(client, owed.through, undefined, 0));
      }
      await client.query('SET lock_timeout = 0');
      await client.query(`DELETE FROM ${this.owedScrubs} WHERE destroyed_by <= $1::xid8`, [owed.through]);
      this.scrubbed();
    } finally {
      client.release(true);
    }
  }

  /** `answerTimeoutMs`: none for the scrub, which waits as long as it takes, as the destroys do. */
  private async owedScrub(on: Queryable, answerTimeoutMs: number | undefined): Promise<{ through: string; since: Date } | undefined> {
    const { rows } = await on.query<{ through: string | null; since: Date | null }>(
      withAnswerTimeout({ text: `SELECT max(destroyed_by)::text AS through, min(destroyed_at) AS since FROM ${this.owedScrubs}` }, answerTimeoutMs),
    );
    const [{ through, since }] = rows;
    return through === null || since === null ? undefined : { through, since };
  }

  /** Those holding back past `through` once they end or `waitMs` has passed, whichever comes first. */
  private async holdersWithin(client: PoolClient, through: string, waitMs: number): Promise<ScrubHolder[]> {
    const deadline = Date.now() + waitMs;
    for (let pauseMs = 10; ; pauseMs = Math.min(2 * pauseMs, 250)) {
      const holders = await this.holdersOf(client, through, undefined, LONG_LOCK_MS);
      if (holders.length === 0 || Date.now() >= deadline) return holders;
      await sleep(Math.min(pauseMs, deadline - Date.now()));
    }
  }

  /**
   * What VACUUM counts when it decides which row versions may still be seen (its horizon): the
   * transaction ids and snapshots of the database's sessions (and of walsenders, which belong to
   * none), prepared transactions, and replication slots. Sessions of other databases hold nothing
   * back here. A horizon at or before `through` keeps the versions that transaction made dead.
   * `age` orders transaction ids across their wraparound. Also the sessions whose transaction,
   * begun at least `lockedForMs` ago, holds a lock on the key table: the rewrite would wait for it.
   *
   * A lazy VACUUM (an autovacuum worker, or a VACUUM without FULL, and its parallel workers) shows
   * a snapshot too, but PostgreSQL leaves it out of the horizon (PROC_IN_VACUUM, procarray.c's
   * ComputeXidHorizons), and so does this: counted, a long autovacuum of the log's table kept the
   * scrub pending and was named as its holder, for an operator to kill. Those are the processes
   * `pg_stat_progress_vacuum` lists; VACUUM FULL and CLUSTER are not among them, and do hold it
   * back. A lazy VACUUM of the key table itself is still counted by its lock on the table.
   */
  private async holdersOf(on: Queryable, through: string, answerTimeoutMs: number | undefined, lockedForMs: number): Promise<ScrubHolder[]> {
    const { rows } = await on.query<HolderRow>(
      withAnswerTimeout(
        {
          text: `WITH owed AS (SELECT age(xid($1::xid8)) AS age)
         SELECT 'session' AS kind, a.pid, a.application_name AS name, a.backend_type, a.xact_start AS since
           FROM pg_stat_activity a, owed
          WHERE a.pid <> pg_backend_pid() AND (a.datname = current_database() OR a.datid IS NULL)
            AND ((coalesce(a.leader_pid, a.pid) NOT IN (SELECT v.pid FROM pg_stat_progress_vacuum v)
                  AND (age(a.backend_xmin) >= owed.age OR age(a.backend_xid) >= owed.age))
                 OR (a.xact_start <= clock_timestamp() - $2 * interval '1 millisecond'
                     AND a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.granted AND l.locktype = 'relation' AND l.relation = $3::regclass)))
         UNION ALL
         SELECT 'prepared-transaction', NULL, p.gid, NULL, p.prepared
           FROM pg_prepared_xacts p, owed
          WHERE p.database = current_database() AND age(p.transaction) >= owed.age
         UNION ALL
         SELECT 'replication-slot', NULL, s.slot_name::text, NULL, NULL
           FROM pg_replication_slots s, owed
          WHERE age(s.xmin) >= owed.age
         ORDER BY since NULLS LAST`,
          values: [through, lockedForMs, this.keys],
        },
        answerTimeoutMs,
      ),
    );
    return rows.map(toScrubHolder);
  }

  private leftPending(owedSince: Date, heldBy: readonly ScrubHolder[]): void {
    // Gone between the lock's refusal and the look at who held it: the next try rewrites.
    if (heldBy.length === 0) return;
    const holders = heldBy.map(describeHolder).join(', ');
    if (holders === this.warnedOf) return;
    this.warnedOf = holders;
    this.log?.warn(
      `the bytes of personal-data keys destroyed since ${owedSince.toISOString()} may still be in the file of ${this.keys}: the rewrite that removes them ` +
        `waits for ${holders} to end (a transaction begun before their destruction may still read them; one holding a lock on the table keeps the rewrite out) ` +
        `(every process with the key store open tries again every ${this.scrubRetryMs / 1000} s; docs/decisions/0006)`,
    );
  }

  private scrubbed(): void {
    if (this.warnedOf === undefined) return;
    this.warnedOf = undefined;
    this.log?.log(`no destroyed personal-data key's bytes are left in the file of ${this.keys}`);
  }
}

type Queryable = Pick<PoolClient, 'query'>;

type HolderRow = { kind: ScrubHolder['kind']; pid: number | null; name: string; backend_type: string | null; since: Date | null };

const toScrubHolder = (row: HolderRow): ScrubHolder => {
  switch (row.kind) {
    case 'session':
      return { kind: 'session', pid: row.pid!, applicationName: row.name, backendType: row.backend_type!, transactionStartedAt: row.since?.toISOString() ?? null };
    case 'prepared-transaction':
      return { kind: 'prepared-transaction', gid: row.name, preparedAt: row.since!.toISOString() };
    case 'replication-slot':
      return { kind: 'replication-slot', slotName: row.name };
  }
};

/** For the log: how an operator finds it in PostgreSQL's views, and nothing it read or wrote. */
function describeHolder(holder: ScrubHolder): string {
  switch (holder.kind) {
    case 'session':
      return `session ${holder.pid} (${holder.applicationName || holder.backendType}${holder.transactionStartedAt ? `, transaction begun ${holder.transactionStartedAt}` : ''})`;
    case 'prepared-transaction':
      return `prepared transaction ${holder.gid} (prepared ${holder.preparedAt})`;
    case 'replication-slot':
      return `replication slot ${holder.slotName}`;
  }
}

const KEY_OR_ITS_DESTRUCTION = `key_or_its_destruction CHECK (
  (destroyed_at IS NULL AND num_nulls(key_id, wrapped_key, master_key_id, created_at) = 0)
  OR (destroyed_at IS NOT NULL AND num_nonnulls(key_id, wrapped_key, master_key_id, created_at) = 0))`;

const toStoredKey = (row: KeyRow): StoredKey =>
  row.destroyed_at !== null
    ? DESTROYED
    : { subjectId: row.subject_id, keyId: row.key_id, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id, createdAt: row.created_at.toISOString() };
