import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalJson, type ChainedContent, hashEvent, sha256Hex } from './hash-chain';

/**
 * The hash of every stored event depends on these exact bytes, so a faster implementation must
 * give the same output as the one the existing logs were written with, kept here as the reference.
 */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let json = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) json += ',';
      json += referenceCanonicalJson(value[index] ?? null);
    }
    return `${json}]`;
  }
  const record = value as Record<string, unknown>;
  let json = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    if (json.length > 1) json += ',';
    json += `${JSON.stringify(key)}:${referenceCanonicalJson(member)}`;
  }
  return `${json}}`;
}

const referenceHashEvent = (event: ChainedContent) =>
  createHash('sha256')
    .update(
      referenceCanonicalJson({
        streamName: event.streamName,
        revision: event.revision,
        eventId: event.eventId,
        type: event.type,
        schemaVersion: event.schemaVersion,
        data: event.data,
        metadata: event.metadata,
        recordedAt: event.recordedAt,
        previousHash: event.previousHash,
      }),
      'utf8',
    )
    .digest('hex');

/** JSON-like values with the awkward parts: unicode and integer-like keys, undefined members and items. */
const keys = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('0', '1', '10', '2', 'a', 'A', 'é', '__proto__', ''));
const values = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(keys, tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('the hash chain', () => {
  it('serialises any JSON-like value to the same canonical bytes as the implementation existing logs were written with', () =>
    fc.assert(fc.property(values, (value) => expect(canonicalJson(value)).toBe(referenceCanonicalJson(value))), { numRuns: 2000 }));

  it('gives any event the hash the reference implementation gives it', () =>
    fc.assert(
      fc.property(
        fc.record({
          streamName: fc.string(),
          revision: fc.nat(),
          eventId: fc.uuid(),
          type: fc.string(),
          schemaVersion: fc.integer({ min: 1, max: 5 }),
          data: fc.dictionary(keys, values),
          metadata: fc.dictionary(keys, values),
          recordedAt: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          previousHash: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
        }),
        (event) => expect(hashEvent(event)).toBe(referenceHashEvent(event)),
      ),
      { numRuns: 1000 },
    ));

  it('hashes an event missing a member the way the reference does, leaving the member out', () => {
    const event = { streamName: 's', revision: 0, eventId: 'e', type: 't', schemaVersion: 1, data: {}, metadata: undefined, recordedAt: 'r', previousHash: 'p' };
    expect(hashEvent(event as unknown as ChainedContent)).toBe(referenceHashEvent(event as unknown as ChainedContent));
  });

  it('is SHA-256 in hex', () => expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
});
