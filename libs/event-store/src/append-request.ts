import type { ExpectedRevision, NewEvent } from './event-store.port';
import { canonicalJson } from './hash-chain';

/** An event as every store writes it: validated, with data and metadata already JSON round-tripped. */
export interface NormalizedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** `data` as canonical JSON: hashed, and stored verbatim by the SQL stores. */
  readonly dataJson: string;
  readonly metadataJson: string;
}

export interface AppendRequest {
  readonly streamName: string;
  readonly events: readonly NormalizedEvent[];
  readonly expectedRevision: ExpectedRevision;
  /** Length of the events' JSON data and metadata, to keep one transaction's payload bounded. */
  readonly payloadLength: number;
}

/** Whether `text` can be an event's id: a UUID, in either case (the store keeps ids lower-case). */
export const isEventId = (text: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);

/**
 * Checks an append before any store sees it and brings it to the form that gets hashed.
 *
 * Data and metadata go through a JSON round trip here, so the hash computed at append time covers
 * exactly what a later read gives back (dates become strings, undefined members disappear).
 * Event ids are lower-cased because the id is part of the hash and KurrentDB returns ids in
 * lower case. NUL characters and unpaired surrogates are refused because PostgreSQL's json cannot
 * store them, and the same append must behave the same on every store.
 */
export function toAppendRequest(
  streamName: string,
  events: readonly NewEvent[],
  expectedRevision: ExpectedRevision,
): AppendRequest {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('stream name must be a non-empty string');
  }
  if (!isExpectedRevision(expectedRevision)) {
    throw new TypeError(`expected revision ${String(expectedRevision)} is not a revision, 'any', 'no-stream' or 'stream-exists'`);
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new TypeError(`an append to ${streamName} needs at least one event`);
  }
  let payloadLength = 0;
  const normalized = events.map((event) => {
    const { normalizedEvent, jsonLength } = normalizeEvent(streamName, event);
    payloadLength += jsonLength;
    return normalizedEvent;
  });
  const seen = new Set<string>();
  for (const { eventId } of normalized) {
    if (seen.has(eventId)) throw new TypeError(`event id ${eventId} appears twice in one append to ${streamName}`);
    seen.add(eventId);
  }
  return { streamName, events: normalized, expectedRevision, payloadLength };
}

function normalizeEvent(streamName: string, event: NewEvent): { normalizedEvent: NormalizedEvent; jsonLength: number } {
  const eventId = typeof event.eventId === 'string' ? event.eventId.toLowerCase() : '';
  if (!isEventId(eventId)) throw new TypeError(`event id ${String(event.eventId)} is not a UUID`);
  if (typeof event.type !== 'string' || event.type.length === 0) {
    throw new TypeError(`event ${eventId} needs a non-empty type`);
  }
  if (!Number.isSafeInteger(event.schemaVersion) || event.schemaVersion < 1) {
    throw new TypeError(`event ${eventId} needs a positive integer schema version`);
  }
  const data = jsonRoundTrip(event.data, `data of event ${eventId} in ${streamName}`);
  const metadata = jsonRoundTrip(event.metadata ?? {}, `metadata of event ${eventId} in ${streamName}`);
  return {
    normalizedEvent: {
      eventId,
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: data.value,
      metadata: metadata.value,
      dataJson: data.canonical,
      metadataJson: metadata.canonical,
    },
    jsonLength: data.canonical.length + metadata.canonical.length,
  };
}

// JSON.stringify escapes both (a whole surrogate pair it writes as is); an even run of backslashes
// before the `u` is escaped backslashes followed by the letter u, not an escape.
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;
const ESCAPED_LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

function jsonRoundTrip(value: unknown, what: string): { value: Record<string, unknown>; canonical: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${what} must be a JSON object`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} cannot be serialised as JSON: ${(error as Error).message}`);
  }
  if (ESCAPED_NUL.test(json)) throw new TypeError(`${what} contains a NUL character, which no store keeps`);
  if (ESCAPED_LONE_SURROGATE.test(json)) throw new TypeError(`${what} contains half of a UTF-16 surrogate pair, which PostgreSQL's json refuses`);
  const parsed = JSON.parse(json) as Record<string, unknown>;
  return { value: parsed, canonical: canonicalJson(parsed) };
}

function isExpectedRevision(value: unknown): value is ExpectedRevision {
  return (
    value === 'any' ||
    value === 'no-stream' ||
    value === 'stream-exists' ||
    (typeof value === 'number' && Number.isSafeInteger(value) && value >= -1)
  );
}
