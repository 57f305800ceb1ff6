import * as crypto from 'node:crypto';
import type { StoredEvent } from './event-store.port';

/** Everything an event's hash covers: its content and the hash it chains to, never its global position. */
export type ChainedContent = Omit<StoredEvent, 'position' | 'hash'>;

/** The same content with data and metadata as their canonical JSON text: how the SQL stores keep them. */
export type ChainedText = Omit<ChainedContent, 'data' | 'metadata'> & { readonly dataJson: string; readonly metadataJson: string };

/**
 * SHA-256 (hex) over the canonical JSON of the event's content and `previousHash`.
 *
 * The global position is deliberately left out: KurrentDB only knows it after the write, and the
 * SQL stores detect reordering of positions through revision order instead (see ADR 0002).
 *
 * The envelope is written with its keys already in canonical (sorted) order: the same bytes as
 * `canonicalJson` of the envelope object, without building and sorting one per event, which
 * matters when `verify` hashes a million of them.
 */
export function hashEvent(event: ChainedContent): string {
  const { streamName, revision, eventId, type, schemaVersion, data, metadata, recordedAt, previousHash } = event;
  const isComplete =
    streamName !== undefined && revision !== undefined && eventId !== undefined && type !== undefined && schemaVersion !== undefined &&
    data !== undefined && metadata !== undefined && recordedAt !== undefined && previousHash !== undefined;
  if (!isComplete) {
    // A member missing (a malformed row) is left out, exactly as canonicalJson of the envelope leaves it out.
    return sha256Hex(canonicalJson({ streamName, revision, eventId, type, schemaVersion, data, metadata, recordedAt, previousHash }));
  }
  return hashChainedText({ streamName, revision, eventId, type, schemaVersion, dataJson: canonicalJson(data), metadataJson: canonicalJson(metadata), recordedAt, previousHash });
}

/**
 * The same hash from data and metadata already in canonical JSON. The SQL stores keep exactly that
 * text, so `verify` hashes what it reads without parsing and re-serialising every event.
 */
export function hashChainedText(event: ChainedText): string {
  const { streamName, revision, eventId, type, schemaVersion, dataJson, metadataJson, recordedAt, previousHash } = event;
  return sha256Hex(
    `{"data":${dataJson},"eventId":${JSON.stringify(eventId)},"metadata":${metadataJson},` +
      `"previousHash":${JSON.stringify(previousHash)},"recordedAt":${JSON.stringify(recordedAt)},"revision":${JSON.stringify(revision)},` +
      `"schemaVersion":${JSON.stringify(schemaVersion)},"streamName":${JSON.stringify(streamName)},"type":${JSON.stringify(type)}}`,
  );
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth, so the same value always
 * serialises to the same bytes whatever key order a database hands back (PostgreSQL's jsonb
 * reorders keys). Values must already be JSON-safe: see `normalizeEvents`.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // String building rather than map/join, strings serialised in place rather than through a
  // recursive call, and object keys quoted once: this runs for every event appended and verified.
  if (Array.isArray(value)) {
    let json = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) json += ',';
      const item: unknown = value[index];
      json += typeof item === 'string' ? JSON.stringify(item) : canonicalJson(item ?? null);
    }
    return `${json}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let json = '{';
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index];
    const member = record[key];
    if (member === undefined) continue;
    if (json.length > 1) json += ',';
    json += quotedKey(key);
    json += ':';
    json += typeof member === 'string' ? JSON.stringify(member) : canonicalJson(member);
  }
  return `${json}}`;
}

/** Event payloads reuse a small vocabulary of keys; quoting each once saves a call per member. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** One-shot `crypto.hash` (Node 20.12+, which `engines` requires): no Hash object per event. */
export function sha256Hex(text: string): string {
  return crypto.hash('sha256', text, 'hex');
}
