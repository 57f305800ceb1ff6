import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureDataDirectory } from './data-directory';

describe('securing a data directory another user owns', () => {
  // Found in review: a DATA_DIR mounted by root 0777, or shared with a group, failed the start
  // with EPERM once the service began restricting it; it had worked before.
  it('starts, and says what it could not restrict and what to do', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'consent-ledger-shared-'));
    chmodSync(dataDir, 0o777);
    const notOurs = Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    // The module itself, not an interop copy of it, so the code under test sees the refusal.
    const fsModule: typeof import('node:fs') = jest.requireActual('node:fs');
    const chmod = jest.spyOn(fsModule, 'chmodSync').mockImplementation(() => {
      throw notOurs;
    });
    const warnings: string[] = [];
    try {
      secureDataDirectory(dataDir, { sqlite: true, warn: (message) => warnings.push(message) });
      expect(statSync(join(dataDir, 'events.sqlite')).mode & 0o777).toBe(0o600);
      expect(warnings).toEqual([expect.stringContaining(`${dataDir} can be read by other users of this machine and belong to another user`)]);
    } finally {
      chmod.mockRestore();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
