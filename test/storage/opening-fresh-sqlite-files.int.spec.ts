import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Opens a store of the compiled code (`npm test` builds it first) in another process, and says how it went. */
function openInAnotherProcess(opening: string): Promise<string> {
  const child = spawn(process.execPath, ['-e', `(async () => { try { await (${opening}); console.log('opened'); } catch (error) { console.log(error.message); } })()`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  child.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(said.trim())));
}

// Found in review: putting a new file in WAL mode is answered SQLITE_BUSY at once, without the busy
// timeout, while another process writes it, so the second of two processes started together on
// a new DATA_DIR failed to start with "database is locked".
describe('opening a new SQLite file another process is writing', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'consent-ledger-fresh-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it.each([
    ['the event store', 'events.sqlite', (file: string) => `Promise.resolve(require('./dist/libs/event-store/src').openSqliteEventStore({ file: ${JSON.stringify(file)} })).then((store) => store.close())`],
    ['the read models', 'state.sqlite', (file: string) => `new (require('./dist/libs/read-models/src/storage/sqlite/sqlite-read-model-storage').SqliteReadModelStorage)({ file: ${JSON.stringify(file)} }).close()`],
    ['the idempotency records', 'state.sqlite', (file: string) => `require('./dist/libs/ledger-commands/src').openSqliteIdempotencyRecords({ file: ${JSON.stringify(file)} }).close()`],
  ])('opens %s once the other process has committed', async (_, name, opening) => {
    const file = join(directory, name);
    // The other process, creating its tables in the new file.
    const writing = new Database(file);
    writing.exec('BEGIN IMMEDIATE');
    writing.exec('create table their_table (a)');
    const opened = openInAnotherProcess(opening(file));
    await new Promise((resolve) => setTimeout(resolve, 500));
    writing.exec('COMMIT');
    writing.close();
    expect(await opened).toBe('opened');
  }, 15_000);
});
