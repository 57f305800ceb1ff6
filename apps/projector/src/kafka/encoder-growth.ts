/** The only kafkajs release whose encoder this was read against (and its last release). */
const KNOWN_KAFKAJS_VERSION = '2.2.4';

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

interface KafkajsEncoderClass {
  nextPowerOfTwo(value: number): number;
  prototype: KafkajsEncoder;
}

/** kafkajs's protocol encoder class (an internal module: see growKafkaEncodersWithoutZeroFill). */
export function kafkajsEncoder(): KafkajsEncoderClass {
  return require('kafkajs/src/protocol/encoder') as KafkajsEncoderClass;
}

/**
 * kafkajs encodes every record, record batch and request into a buffer that doubles when full,
 * and each doubling is a `Buffer.alloc`: memory zero-filled and then overwritten from the start.
 * A state message (~11 KB of JSON) grows its record's buffer to 16 KB, and every record batch
 * grows by doubling to the size of its records again, so the feed zero-filled several times the
 * bytes it sent, and left as much garbage. The encoder writes each byte before `offset` moves past
 * it and never reads beyond `offset` (its `buffer` ends there), so growing with `allocUnsafe`
 * produces the same bytes (encoder-growth.spec.ts compares them). Measured with bench/projector
 * at 1,500 commands/s, two alternating runs each: p99 append → state message 1.5 and 1.6 s
 * before, 0.9 and 1.0 s after.
 *
 * This reaches into a kafkajs internal, so it is applied only to the version it was read
 * against (any other is left as it is, and returns false), for the whole process, as the codec
 * registry in kafka-client.ts is.
 */
export function growKafkaEncodersWithoutZeroFill(): boolean {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KNOWN_KAFKAJS_VERSION) return false;
  const Encoder = kafkajsEncoder();
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkajsEncoder, length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  return true;
}
