import type { Instant, LedgerEventType } from '@consent-ledger/domain';
import { isSealed } from '@consent-ledger/personal-data';
import type { ProjectedEvent } from '@consent-ledger/read-models';
import type { FeedMessage } from './feed-message';

/** Version of the `consent.events.v1` value. */
export const INTEGRATION_EVENT_SCHEMA_VERSION = 1;

/**
 * A ledger event as other systems see it on `consent.events.v1`: the fact, where it sits in the
 * log, and nothing that could identify the person but the pseudonymous subject id.
 */
export interface IntegrationEvent {
  readonly schemaVersion: typeof INTEGRATION_EVENT_SCHEMA_VERSION;
  readonly eventId: string;
  readonly eventType: LedgerEventType;
  readonly subjectId: string;
  /** Global log position (decimal): with the subject id, orders and de-duplicates. */
  readonly position: string;
  /** Position of the event in the subject's own stream, from 0. */
  readonly revision: number;
  readonly occurredAt: Instant;
  readonly recordedAt: Instant;
  /** The event's data without its sealed fields, the actor's id and an erasure's free-text basis. */
  readonly data: Record<string, unknown>;
}

/**
 * Fields that carry personal data sealed with the subject's key. Ciphertext is still personal data
 * (and useless to consumers, who hold no key), so it never leaves the ledger.
 */
const SEALED_FIELDS = new Set(['personalData', 'justification', 'evidenceRef']);

export function integrationEventOf({ event, position, recordedAt }: ProjectedEvent): FeedMessage {
  const value: IntegrationEvent = {
    schemaVersion: INTEGRATION_EVENT_SCHEMA_VERSION,
    eventId: event.eventId,
    eventType: event.type,
    subjectId: event.data.subjectId,
    position: position.toString(),
    revision: event.revision,
    occurredAt: event.data.capture.occurredAt,
    recordedAt,
    data: sharedDataOf(event.data),
  };
  return {
    key: event.data.subjectId,
    value: JSON.stringify(value),
    headers: {
      'event-id': event.eventId,
      'event-type': event.type,
      'schema-version': String(INTEGRATION_EVENT_SCHEMA_VERSION),
      // The command that caused the event, as the channel named it.
      'causation-id': event.data.capture.idempotencyKey,
      position: position.toString(),
      'content-type': 'application/json',
    },
  };
}

/**
 * What consumers may see of an event's data. Besides the sealed fields, two values stay in the
 * ledger in clear but not on the topic: the actor's id (a call-centre agent's staff number, or a
 * representative who may be another subject: either identifies a person or links two) and the
 * basis of an erasure (free text, such as a court order reference that names the parties).
 */
function sharedDataOf(data: Readonly<Record<string, unknown>> & { readonly capture: { readonly actor: { readonly kind: string; readonly role?: string } } }): Record<string, unknown> {
  const { basis: _basis, ...kept } = withoutSealed(data) as Record<string, unknown> & { basis?: unknown; capture: Record<string, unknown> };
  const { id: _id, ...actor } = data.capture.actor as { id?: string; kind: string; role?: string };
  return { ...kept, capture: { ...kept.capture, actor } };
}

/** Drops sealed fields by name, and any other value that is sealed, at any depth. */
export function withoutSealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => !isSealed(item)).map(withoutSealed);
  if (typeof value !== 'object' || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SEALED_FIELDS.has(key) || isSealed(item)) continue;
    kept[key] = withoutSealed(item);
  }
  return kept;
}
