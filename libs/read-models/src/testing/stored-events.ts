import { randomUUID } from 'node:crypto';
import type { LedgerEvent } from '@consent-ledger/domain';
import type { EventStore, GlobalPosition, NewEvent, StoredEvent } from '@consent-ledger/event-store';
import { LEDGER_STREAM_PREFIX } from '../ledger-events';

/**
 * Gives domain events what the store would: a stream per subject, revisions, dense positions
 * from `after + 1`, event ids, and the capture's `recordedAt` as the store's.
 */
export function asStored(events: readonly LedgerEvent[], { after = 0n, revisions = new Map<string, number>() } = {}): StoredEvent[] {
  return events.map((event, index) => {
    const subjectId = event.data.subjectId;
    const revision = (revisions.get(subjectId) ?? -1) + 1;
    revisions.set(subjectId, revision);
    const position = after + BigInt(index + 1);
    return {
      streamName: `${LEDGER_STREAM_PREFIX}${subjectId}`,
      revision,
      position,
      eventId: `event-${position}`,
      type: event.type,
      schemaVersion: 1,
      data: event.data as unknown as Record<string, unknown>,
      metadata: {},
      recordedAt: event.data.capture.recordedAt,
      hash: '',
      previousHash: '',
    };
  });
}

/** The same event as an append to a real store (a fresh id per call). */
export function asNewEvent(event: LedgerEvent): NewEvent {
  return {
    eventId: randomUUID(),
    type: event.type,
    schemaVersion: 1,
    data: event.data as unknown as Record<string, unknown>,
  };
}

export const ledgerStream = (subjectId: string): string => `${LEDGER_STREAM_PREFIX}${subjectId}`;

/** Appends each event to its subject's stream of a real store, in order; the position of the last (0 for none). */
export async function appendToLog(store: EventStore, ...events: readonly LedgerEvent[]): Promise<GlobalPosition> {
  let position: GlobalPosition = 0n;
  for (const event of events) position = (await store.append(ledgerStream(event.data.subjectId), [asNewEvent(event)], { expectedRevision: 'any' })).position;
  return position;
}
