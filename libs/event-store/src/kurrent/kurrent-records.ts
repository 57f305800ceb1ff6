import {
  CancelledError,
  DeadlineExceededError,
  jsonEvent,
  NotLeaderError,
  UnavailableError,
  type EventData,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { UnpositionedEvent } from '../append-planning';
import { EventStoreUnavailable } from '../errors';
import type { RemovalDetails, StoredEvent } from '../event-store.port';
import type { RemovalRecord } from '../removal-record';

/**
 * KurrentDB has no column for the hash chain, so it travels in the event metadata under this key,
 * next to the caller's own metadata, and is taken out again on read.
 */
export const CHAIN_METADATA_KEY = 'consentLedgerChain';

/** Our own stream of removal records (see ADR 0002); kept out of reads of the global log. */
export const REMOVALS_STREAM = 'consent-ledger-event-store-removals';

interface ChainMetadata {
  readonly schemaVersion: number;
  readonly recordedAt: string;
  readonly previousHash: string;
  readonly hash: string;
}

export function toEventData(row: UnpositionedEvent): EventData {
  const chain: ChainMetadata = {
    schemaVersion: row.schemaVersion,
    recordedAt: row.recordedAt,
    previousHash: row.previousHash,
    hash: row.hash,
  };
  return jsonEvent({ id: row.eventId, type: row.type, data: row.data, metadata: { ...row.metadata, [CHAIN_METADATA_KEY]: chain } });
}

/**
 * A stored event as the port describes it. An event without chain metadata was not written by
 * this store: it comes back with empty hashes, which `verify` reports as a break.
 */
export function toStoredEvent(resolved: ResolvedEvent): StoredEvent | undefined {
  const recorded = resolved.event;
  if (!recorded) return undefined;
  const { [CHAIN_METADATA_KEY]: chain, ...metadata } = isRecord(recorded.metadata) ? recorded.metadata : {};
  const links = isChainMetadata(chain) ? chain : undefined;
  return {
    streamName: recorded.streamId,
    revision: Number(recorded.revision),
    position: recorded.position?.commit ?? resolved.commitPosition ?? 0n,
    eventId: recorded.id,
    type: recorded.type,
    schemaVersion: links?.schemaVersion ?? 1,
    data: isRecord(recorded.data) ? recorded.data : {},
    metadata,
    recordedAt: links?.recordedAt ?? recorded.created.toISOString(),
    hash: links?.hash ?? '',
    previousHash: links?.previousHash ?? '',
  };
}

export function toRemovalEventData(record: RemovalRecord): EventData {
  return jsonEvent({
    type: 'StreamRemoved',
    data: { ...record, positions: record.positions.map(String) },
  });
}

export function toRemovalRecord(resolved: ResolvedEvent): RemovalRecord | undefined {
  const data = resolved.event?.data;
  if (!isRecord(data) || !Array.isArray(data.positions)) return undefined;
  return {
    sequence: Number(data.sequence),
    streamName: String(data.streamName),
    lastRevision: Number(data.lastRevision),
    positions: (data.positions as string[]).map(BigInt),
    lastHash: String(data.lastHash),
    reason: String(data.reason),
    removedAt: String(data.removedAt),
    ...(isRecord(data.details) && { details: data.details as RemovalDetails }),
    previousHash: String(data.previousHash),
    hash: String(data.hash),
  };
}

/** The client's errors that mean "try again later". */
export function asUnavailable(error: unknown, message: string): unknown {
  if (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof NotLeaderError ||
    error instanceof CancelledError
  ) {
    return new EventStoreUnavailable(`${message}: ${error.message}`, error);
  }
  return error;
}

function isChainMetadata(value: unknown): value is ChainMetadata {
  return (
    isRecord(value) &&
    typeof value.hash === 'string' &&
    typeof value.previousHash === 'string' &&
    typeof value.recordedAt === 'string' &&
    typeof value.schemaVersion === 'number'
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}
