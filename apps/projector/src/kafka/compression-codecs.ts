import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
import { decompress as lz4Decompress } from 'lz4js';
import { uncompress as snappyUncompress } from 'snappyjs';

/**
 * How Java's client (xerial's SnappyOutputStream) frames Snappy: this magic, a version and a
 * compatible version, then chunks each preceded by its length. librdkafka sends raw Snappy.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_LENGTH = 16;

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function snappyDecompress(compressed: Buffer): Buffer {
  if (!compressed.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return asBuffer(snappyUncompress(compressed));
  const chunks: Buffer[] = [];
  for (let at = XERIAL_HEADER_LENGTH; at < compressed.length; ) {
    const length = compressed.readInt32BE(at);
    at += 4;
    chunks.push(asBuffer(snappyUncompress(compressed.subarray(at, at + length))));
    at += length;
  }
  return Buffer.concat(chunks);
}

const publishesGzipOnly = (): never => {
  throw new Error('the projector publishes gzip or uncompressed batches only (KAFKA_COMPRESSION)');
};

/**
 * kafkajs reads gzip alone. A channel's producer chooses how its batches are compressed
 * (`compression.type`), and Java and librdkafka producers are often set to Snappy, LZ4 or zstd; a
 * fetch holding one such batch failed whole, and the consumer that met it stopped for good: the
 * command intake of every projector instance, for every channel (found by a channel team). So the
 * three are read too, in plain JavaScript. The registry is kafkajs's, for the process.
 */
export function readEveryCompressionKafkaHas(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => ({ compress: publishesGzipOnly, decompress: async (buffer: Buffer) => snappyDecompress(buffer) });
  // Kafka frames LZ4 in LZ4's frame format, which lz4js reads.
  CompressionCodecs[CompressionTypes.LZ4] = () => ({ compress: publishesGzipOnly, decompress: async (buffer: Buffer) => asBuffer(lz4Decompress(buffer)) });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({ compress: publishesGzipOnly, decompress: async (buffer: Buffer) => asBuffer(zstdDecompress(buffer)) });
}
