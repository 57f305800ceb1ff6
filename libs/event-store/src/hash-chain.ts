import { createHash } from 'node:crypto';
import type { StoredEvent } from './event-store.port';

/** Everything an event's hash covers: its content and the hash it chains to, never its global position. */
export type ChainedContent = Omit<StoredEvent, 'position' | 'hash'>;

/**
 * SHA-256 (hex) over the canonical JSON of the event's content and `previousHash`.
 *
 * The global position is deliberately left out: KurrentDB only knows it after the write, and the
 * SQL stores detect reordering of positions through revision order instead (see ADR 0002).
 */
export function hashEvent(event: ChainedContent): string {
  return sha256Hex(
    canonicalJson({
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
  );
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth, so the same value always
 * serialises to the same bytes whatever key order a database hands back (PostgreSQL's jsonb
 * reorders keys). Values must already be JSON-safe: see `normalizeEvents`.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // String building rather than map/join: this runs for every event appended and verified.
  if (Array.isArray(value)) {
    let json = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) json += ',';
      json += canonicalJson(value[index] ?? null);
    }
    return `${json}]`;
  }
  const record = value as Record<string, unknown>;
  let json = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    if (json.length > 1) json += ',';
    json += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${json}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
