import { type Instant, isLedgerEventType, type LedgerEvent, type RecordedLedgerEvent } from '@consent-ledger/domain';
import type { GlobalPosition, StoredEvent } from '@consent-ledger/event-store';

/** Every subject's ledger is one stream named after its pseudonymous id. */
export const LEDGER_STREAM_PREFIX = 'consent-ledger-';

/** The ledger event schema versions the read models understand. */
const UNDERSTOOD_SCHEMA_VERSIONS: readonly number[] = [1];

/** A ledger event as the projections see it: the domain event plus where and when the log holds it. */
export interface ProjectedEvent {
  readonly event: RecordedLedgerEvent;
  readonly position: GlobalPosition;
  /** When the store recorded the event: the instant the read models evaluate decisions at. */
  readonly recordedAt: Instant;
}

export type LedgerEventReading =
  | { readonly kind: 'ledger'; readonly projected: ProjectedEvent }
  /** Not a ledger event (another stream or type): the read models pass over it. */
  | { readonly kind: 'other' }
  /** A ledger event the read models cannot read (a newer schema): passed over and reported. */
  | { readonly kind: 'unreadable'; readonly reason: string };

export function readLedgerEvent(stored: StoredEvent): LedgerEventReading {
  if (!stored.streamName.startsWith(LEDGER_STREAM_PREFIX) || !isLedgerEventType(stored.type)) return { kind: 'other' };
  if (!UNDERSTOOD_SCHEMA_VERSIONS.includes(stored.schemaVersion)) {
    return { kind: 'unreadable', reason: `${stored.type} schema version ${stored.schemaVersion} at position ${stored.position}` };
  }
  const data = stored.data as { subjectId?: unknown; capture?: { occurredAt?: unknown } };
  if (typeof data.subjectId !== 'string' || typeof data.capture?.occurredAt !== 'string') {
    return { kind: 'unreadable', reason: `${stored.type} at position ${stored.position} has no subject or capture` };
  }
  const event = { type: stored.type, data: stored.data } as unknown as LedgerEvent;
  return {
    kind: 'ledger',
    projected: {
      event: { ...event, eventId: stored.eventId, revision: stored.revision },
      position: stored.position,
      recordedAt: stored.recordedAt as Instant,
    },
  };
}
