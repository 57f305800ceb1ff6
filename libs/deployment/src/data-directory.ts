import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded mode's SQLite files, each with the -wal, -shm or -journal SQLite keeps beside it. */
const SQLITE_FILES = ['events.sqlite', 'state.sqlite', 'keys.sqlite'];
const SQLITE_SIDE_FILES = ['', '-wal', '-shm', '-journal'];
/**
 * Made empty, readable by this user only, before SQLite opens them: SQLite gives a new -wal and -shm
 * the database file's mode. Not `keys.sqlite`, whose absence tells a lost key store (see vault.ts);
 * the vault restricts it itself.
 */
const CREATED_BEFORE_OPENING = ['events.sqlite', 'state.sqlite'];

/**
 * Creates DATA_DIR readable by this user only (0700), and its SQLite files (0600) when `sqlite`:
 * they hold sealed personal data, idempotency keys and stored answers, and under the usual umask
 * the directory was 0755 and the files 0644. A directory or file from an earlier start that is
 * open to others is tightened, and `warn` told once, naming them all.
 */
export function secureDataDirectory(dataDir: string, { sqlite, warn }: { sqlite: boolean; warn: (message: string) => void }): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tightened = [restrict(dataDir, 0o700)];
  for (const name of SQLITE_FILES) for (const side of SQLITE_SIDE_FILES) tightened.push(restrict(join(dataDir, `${name}${side}`), 0o600));
  if (sqlite) for (const name of CREATED_BEFORE_OPENING) closeSync(openSync(join(dataDir, name), 'a', 0o600));
  const wereOpen = tightened.filter((path): path is string => typeof path === 'string');
  if (wereOpen.length > 0) {
    warn(`${wereOpen.join(', ')} could be read by other users of this machine; now only by this one (directory 0700, files 0600)`);
  }
  const stayOpen = tightened.filter((path): path is { readonly notOurs: string } => typeof path === 'object');
  if (stayOpen.length > 0) {
    warn(
      `${stayOpen.map((path) => path.notOurs).join(', ')} can be read by other users of this machine and belong to another user, so this one cannot restrict them: ` +
        'give DATA_DIR to the user the service runs as, or restrict it yourself (directory 0700, files 0600)',
    );
  }
}

/**
 * The path, when it existed with any permission for group or others and was restricted to `mode`;
 * `notOurs` when another user owns it (a mount made by root, a directory shared with a group):
 * found in review, the start failed on it, where it had worked before the restriction.
 */
function restrict(path: string, mode: number): string | { readonly notOurs: string } | undefined {
  let current: number;
  try {
    current = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((current & 0o077) === 0) return undefined;
  try {
    chmodSync(path, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return { notOurs: path };
    throw error;
  }
  return path;
}
