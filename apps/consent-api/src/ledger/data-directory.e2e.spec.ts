import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { commandJson, newSubjectId, startTestApi } from '../testing/test-api';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('the data directory of the embedded mode', () => {
  let parent: string;
  let umask: number;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'consent-data-'));
    // The usual umask, under which the directory came out 0755 and the SQLite files 0644.
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(parent, { recursive: true, force: true });
  });

  it('is created readable by this user only, and so are the SQLite files and their -wal and -shm', async () => {
    const dataDir = join(parent, 'data');
    const api = await startTestApi('sqlite', { dataDir });
    try {
      expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);
      const files = ['events.sqlite', 'state.sqlite', 'keys.sqlite'].flatMap((name) => [name, `${name}-wal`, `${name}-shm`]).filter((name) => existsSync(join(dataDir, name)));
      expect(files).toEqual(expect.arrayContaining(['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm', 'state.sqlite', 'state.sqlite-wal', 'keys.sqlite']));
      expect(modeOf(dataDir)).toBe(0o700);
      expect(Object.fromEntries(files.map((name) => [name, modeOf(join(dataDir, name))]))).toEqual(Object.fromEntries(files.map((name) => [name, 0o600])));
    } finally {
      await api.close();
    }
  });

  it('is tightened when an earlier start left it open to others, with one warning naming what was open', async () => {
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    writeFileSync(join(dataDir, 'events.sqlite'), '', { mode: 0o644 });
    writeFileSync(join(dataDir, 'state.sqlite'), '', { mode: 0o644 });
    chmodSync(dataDir, 0o755);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const api = await startTestApi('sqlite', { dataDir });
      const modes = [modeOf(dataDir), modeOf(join(dataDir, 'events.sqlite')), modeOf(join(dataDir, 'state.sqlite'))];
      await api.close();
      expect(modes).toEqual([0o700, 0o600, 0o600]);
      const warnings = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes(dataDir));
      expect(warnings).toEqual([expect.stringContaining(`${dataDir}, ${join(dataDir, 'events.sqlite')}, ${join(dataDir, 'state.sqlite')} could be read by other users`)]);
    } finally {
      warn.mockRestore();
    }
  });
});
