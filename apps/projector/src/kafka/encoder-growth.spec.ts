import { CompressionTypes } from 'kafkajs';
import { compressFeedBatchesInline } from './kafka-client';
import { growKafkaEncodersWithoutZeroFill, kafkajsEncoder } from './encoder-growth';

type RecordBatchEncoder = (batch: object) => Promise<{ buffer: Buffer }>;
const { RecordBatch: recordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: RecordBatchEncoder };
const record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => unknown;

/** A produce batch as the feed sends them: state-sized JSON values, headers, gzip or none. */
async function encodedBatch(compression: CompressionTypes): Promise<Buffer> {
  const records = Array.from({ length: 40 }, (_, index) =>
    record({
      offsetDelta: index,
      timestampDelta: index,
      key: Buffer.from(`subject-${index}`),
      value: JSON.stringify({ subjectId: `subject-${index}`, purposes: Array.from({ length: 70 }, (__, purpose) => ({ purpose: `purpose-${purpose}-${index}`, allowed: purpose % 2 === 0 })) }),
      headers: { 'event-id': `event-${index}`, position: String(1000 + index), 'content-type': 'application/json' },
    }),
  );
  const { buffer } = await recordBatch({ compression, firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_039, lastOffsetDelta: 39, records });
  return Buffer.from(buffer);
}

describe('growing kafkajs encoders without zero-filling', () => {
  const original = kafkajsEncoder().prototype.ensureAvailable;
  afterAll(() => {
    kafkajsEncoder().prototype.ensureAvailable = original;
  });

  it('encodes the same bytes as kafkajs does, with and without compression', async () => {
    compressFeedBatchesInline();
    const before = [await encodedBatch(CompressionTypes.None), await encodedBatch(CompressionTypes.GZIP)];
    // Leave garbage where the grown buffers will come from, so a read past what was written shows.
    Buffer.allocUnsafe(1 << 20).fill(0xa5);

    expect(growKafkaEncodersWithoutZeroFill()).toBe(true);
    const after = [await encodedBatch(CompressionTypes.None), await encodedBatch(CompressionTypes.GZIP)];

    expect(kafkajsEncoder().prototype.ensureAvailable).not.toBe(original);
    expect(after[0].length).toBeGreaterThan(16 * 1024);
    expect(after[0].equals(before[0])).toBe(true);
    expect(after[1].equals(before[1])).toBe(true);
  });
});
