import { GENESIS_HASH, type GlobalPosition, type RemovalDetails, type RemovalRecord, type StreamRemoval } from './event-store.port';
import { canonicalJson, sha256Hex } from './hash-chain';

export type { RemovalRecord } from './event-store.port';

export interface RemovedStream {
  readonly streamName: string;
  readonly lastRevision: number;
  readonly positions: readonly GlobalPosition[];
  readonly lastHash: string;
}

export function recordRemoval(
  previous: RemovalRecord | undefined,
  removed: RemovedStream,
  removal: StreamRemoval,
): RemovalRecord {
  const content = {
    sequence: (previous?.sequence ?? 0) + 1,
    streamName: removed.streamName,
    lastRevision: removed.lastRevision,
    positions: removed.positions,
    lastHash: removed.lastHash,
    reason: removal.reason,
    removedAt: removal.removedAt,
    ...(removal.details && { details: { ...removal.details } }),
    previousHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...content, hash: hashRemoval(content) };
}

export function hashRemoval(record: Omit<RemovalRecord, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      sequence: record.sequence,
      streamName: record.streamName,
      lastRevision: record.lastRevision,
      positions: record.positions.map(String),
      lastHash: record.lastHash,
      reason: record.reason,
      removedAt: record.removedAt,
      // Left out when absent (canonicalJson skips undefined), so records written before details existed hash as they did.
      details: record.details,
      previousHash: record.previousHash,
    }),
  );
}

export function assertValidRemoval(streamName: string, removal: StreamRemoval): void {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('stream name must be a non-empty string');
  }
  if (typeof removal?.reason !== 'string' || removal.reason.trim().length === 0) {
    throw new TypeError(`removing ${streamName} needs a reason`);
  }
  if (typeof removal.removedAt !== 'string' || Number.isNaN(Date.parse(removal.removedAt))) {
    throw new TypeError(`removing ${streamName} needs removedAt as an ISO-8601 instant`);
  }
  if (removal.details !== undefined) assertValidDetails(streamName, removal.details);
}

/**
 * Details a store keeps must read back exactly as hashed, from SQL text and KurrentDB JSON alike:
 * flat values only, numbers finite.
 */
function assertValidDetails(streamName: string, details: RemovalDetails): void {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    throw new TypeError(`removing ${streamName}: details must be an object of strings, numbers and booleans`);
  }
  for (const [key, value] of Object.entries(details)) {
    const isFlat = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (key.length === 0 || !isFlat) {
      throw new TypeError(`removing ${streamName}: detail "${key}" must be a string, a finite number or a boolean`);
    }
  }
}

/** A details column read back: NULL (a record written before details existed) stays absent, never `null`, which would hash differently. */
export function detailsOfColumn(value: unknown): { details?: RemovalDetails } {
  if (value === null || value === undefined) return {};
  return { details: (typeof value === 'string' ? JSON.parse(value) : value) as RemovalDetails };
}
