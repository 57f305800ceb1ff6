import { GENESIS_HASH, type GlobalPosition, type StreamRemoval } from './event-store.port';
import { canonicalJson, sha256Hex } from './hash-chain';

/**
 * The store's own record of a sanctioned removal: which events went (their positions and the
 * stream's last hash), why and when. Records form a hash chain of their own, so editing or deleting
 * one after the fact is detectable, and a removal can only excuse the positions it lists.
 */
export interface RemovalRecord {
  /** 1, 2, 3, ... in the order the removals were made. */
  readonly sequence: number;
  readonly streamName: string;
  readonly lastRevision: number;
  readonly positions: readonly GlobalPosition[];
  /** Hash of the stream's last event when it was removed. */
  readonly lastHash: string;
  readonly reason: string;
  readonly removedAt: string;
  /** Hash of the previous removal record, GENESIS_HASH for the first. */
  readonly previousHash: string;
  readonly hash: string;
}

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
}
