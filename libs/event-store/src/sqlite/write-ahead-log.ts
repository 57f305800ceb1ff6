import type { Database } from 'better-sqlite3';

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Puts a database in WAL mode, waiting (up to `timeoutMs`) for another process that is writing
 * to it. On a new file the change takes the file's exclusive lock from a shared one, and SQLite
 * answers that with SQLITE_BUSY at once, without its busy timeout, while another connection
 * holds a write lock (waiting could deadlock): processes started together on a new `DATA_DIR`,
 * one of them creating its tables, failed to start with "database is locked" (found in a test).
 */
export function useWriteAheadLog(db: Database, timeoutMs = 5000): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      // Opening is synchronous (constructors call it): a short blocking pause between tries.
      Atomics.wait(PAUSE, 0, 0, 10);
    }
  }
}
