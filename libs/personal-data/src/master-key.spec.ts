import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesAtOnce } from '../../../test/support/processes-at-once';
import { loadOrCreateDevMasterKey, MasterKeyInvalid, parseMasterKey } from './master-key';

describe('the master key', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'consent-ledger-master-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('is read from MASTER_KEY as 32 bytes of base64', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64url'))).toEqual(key);
  });

  it('is refused when it is not 32 bytes of base64', () => {
    expect(() => parseMasterKey(randomBytes(16).toString('base64'))).toThrow(MasterKeyInvalid);
    expect(() => parseMasterKey('not base64 at all!')).toThrow(MasterKeyInvalid);
  });

  it('is generated once for development into a file only its owner can read', () => {
    const file = join(directory, 'master.key');
    const first = loadOrCreateDevMasterKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateDevMasterKey(file)).toEqual(first);
  });

  // Found in review (fifteenth session): processes sharing DATA_DIR, started together, could read
  // the file another had created and not yet written, and refuse to start on an empty key.
  it('is the same key for processes that create it at one moment', async () => {
    const file = join(directory, 'master.key');
    const compiled = join(__dirname, '..', '..', '..', 'dist', 'libs', 'personal-data', 'src', 'master-key.js');
    const script = `
      const { loadOrCreateDevMasterKey } = require(${JSON.stringify(compiled)});
      process.stdout.write(loadOrCreateDevMasterKey(${JSON.stringify(file)}).toString('base64'));`;
    const answers = await processesAtOnce(script, 8);
    const key = loadOrCreateDevMasterKey(file).toString('base64');
    expect(answers).toEqual(answers.map(() => ({ code: 0, out: key, err: '' })));
    expect(readdirSync(directory)).toEqual(['master.key']);
  });

  it('is refused from a file others can read', () => {
    const file = join(directory, 'master.key');
    loadOrCreateDevMasterKey(file);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateDevMasterKey(file)).toThrow(MasterKeyInvalid);
  });
});
