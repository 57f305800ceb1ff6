import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersonalDataVault } from '../personal-data-vault.port';
import { runDurableVaultContract, runPersonalDataVaultContract, type VaultUnderTest } from '../personal-data-vault.contract';
import { openSqliteVault } from './sqlite-vault';

async function openOnFreshFile(): Promise<VaultUnderTest & { file: string }> {
  const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-keys-'));
  const file = join(directory, 'keys.sqlite');
  const masterKey = randomBytes(32);
  const instances: PersonalDataVault[] = [await openSqliteVault({ file, masterKey })];
  return {
    file,
    vault: instances[0],
    masterKey,
    async reopen(key: Buffer) {
      const instance = await openSqliteVault({ file, masterKey: key });
      instances.push(instance);
      return instance;
    },
    async dispose() {
      await Promise.all(instances.map((instance) => instance.close()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

describe('SQLite personal-data vault', () => {
  runPersonalDataVaultContract({ open: openOnFreshFile });
  runDurableVaultContract({ open: openOnFreshFile });

  it('keeps its file readable by its owner only', async () => {
    const { file, dispose } = await openOnFreshFile();
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await dispose();
    }
  });

  it('leaves no trace of a destroyed key in the raw bytes of its file or journal', async () => {
    const underTest = await openOnFreshFile();
    try {
      const subjects = Array.from({ length: 3000 }, (_, i) => `subject-${i}`);
      for (const subject of subjects) await underTest.vault.seal(subject, `${subject}@example.org`);
      const wrapped = wrappedKeysIn(underTest.file);
      const destroyed = subjects.filter((_, i) => i % 29 === 0);
      for (const subject of destroyed) await underTest.vault.destroyKey(subject);

      const raw = Buffer.concat(
        [underTest.file, `${underTest.file}-journal`, `${underTest.file}-wal`].filter(existsSync).map((file) => readFileSync(file)),
      );
      expect(destroyed.filter((subject) => raw.includes(wrapped.get(subject)!))).toEqual([]);
      expect(raw.includes(wrapped.get('subject-1')!)).toBe(true);
    } finally {
      await underTest.dispose();
    }
  });
});

/** The wrapped key of each subject, as stored: 12-byte nonce, 32-byte encrypted key, 16-byte tag. */
function wrappedKeysIn(file: string): Map<string, Buffer> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT subject_id, wrapped_key FROM subject_keys').all() as Array<{ subject_id: string; wrapped_key: Buffer }>;
    return new Map(rows.map((row) => [row.subject_id, row.wrapped_key.subarray(12, 44)]));
  } finally {
    db.close();
  }
}
