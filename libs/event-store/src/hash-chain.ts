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
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
