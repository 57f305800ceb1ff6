import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/**
 * The master key (key-encryption key) wraps every subject's data key. It lives outside both the
 * event log and the key store: in production it comes from the environment (`MASTER_KEY`, 32
 * bytes in base64, from a secret manager); in development it is generated once into a file only
 * its owner can read. See docs/decisions/0006.
 */
export const MASTER_KEY_BYTES = 32;

export class MasterKeyInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyInvalid';
  }
}

/** No `MASTER_KEY` and no development key file, where only an existing master key may be used. */
export class MasterKeyMissing extends Error {
  constructor(file: string) {
    super(`no master key: MASTER_KEY is not set and there is no ${file}`);
    this.name = 'MasterKeyMissing';
  }
}

/** Parses `MASTER_KEY`: exactly 32 bytes, base64 (standard or URL-safe). */
/** `from`: where the key was read, named in the refusal (found in review: a damaged master.key was blamed on MASTER_KEY, which was not set). */
export function parseMasterKey(base64: string, from = 'MASTER_KEY'): Buffer {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new MasterKeyInvalid(`${from} must be base64`);
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyInvalid(`${from} must decode to ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/**
 * Development only: reads the master key from `file`, creating it (mode 0600) on first use.
 * Refuses a file that group or others can read, as ssh does with private keys.
 */
export function loadOrCreateDevMasterKey(file: string): Buffer {
  // Written aside, then linked into place: a process starting beside this one (a shared DATA_DIR)
  // finds no file or a whole one, never the empty file an exclusive create leaves until written.
  if (existsSync(file)) return readDevMasterKey(file);
  const written = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(written, `${randomBytes(MASTER_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(written, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(written, { force: true });
  }
  return readDevMasterKey(file);
}

/**
 * Reads the development master key from `file` without ever creating it: a tool that reads what
 * the service sealed (the auditor CLI) would otherwise make a key of its own, which opens nothing.
 * Refuses a file that group or others can read.
 */
export function readDevMasterKey(file: string): Buffer {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MasterKeyMissing(file);
    throw error;
  }
  if ((mode & 0o077) !== 0) {
    throw new MasterKeyInvalid(`${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  return parseMasterKey(readFileSync(file, 'utf8'), `the development master key ${file}`);
}
