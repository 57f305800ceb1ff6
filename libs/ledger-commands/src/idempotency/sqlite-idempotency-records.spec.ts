import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idempotencyRecordsContract } from '../testing/idempotency-records.contract';
import { openSqliteIdempotencyRecords } from './sqlite-idempotency-records';

describe('SQLite idempotency records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idempotency-'));
  let files = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  idempotencyRecordsContract(async () => openSqliteIdempotencyRecords({ file: join(dir, `state-${(files += 1)}.sqlite`) }));

  it('keeps records across a reopen of the file', async () => {
    const file = join(dir, 'reopened.sqlite');
    const before = openSqliteIdempotencyRecords({ file });
    await before.save({ client: 'c', idempotencyKey: 'k', requestFingerprint: 'f', status: 201, body: '{}', recordedAt: '2024-05-01T09:00:00.000Z' });
    await before.close();
    const after = openSqliteIdempotencyRecords({ file });
    expect(await after.claim({ client: 'c', idempotencyKey: 'k', requestFingerprint: 'f', recordedAt: '2024-05-02T09:00:00.000Z' })).toMatchObject({ status: 201 });
    await after.close();
  });
});
