import { hashRemoval, recordRemoval } from './removal-record';

const removed = { streamName: 'consent-ledger-jan', lastRevision: 2, positions: [4n, 7n, 9n], lastHash: 'a'.repeat(64) };
const removal = { reason: 'proof retention ended on 2018-01-01T10:00:00.000Z (catalogue c1)', removedAt: '2026-11-29T03:00:00.000Z' };

describe('a removal record', () => {
  // Records already in stores were hashed before details existed: they must verify as they did.
  it('hashes a removal without details exactly as records written before details existed', () => {
    expect(recordRemoval(undefined, removed, removal).hash).toBe('2bfce7382605e8ce8addc2063e862b197f066006291a69ca28fcf78999d7801e');
  });

  it('covers the details in its hash, so changing them afterwards is detectable', () => {
    const record = recordRemoval(undefined, removed, { ...removal, details: { runId: 'run-7', eventsRemoved: 3 } });

    expect(record.details).toEqual({ runId: 'run-7', eventsRemoved: 3 });
    expect(hashRemoval(record)).toBe(record.hash);
    expect(hashRemoval({ ...record, details: { runId: 'run-8', eventsRemoved: 3 } })).not.toBe(record.hash);
    expect(hashRemoval({ ...record, details: undefined })).not.toBe(record.hash);
  });
});
