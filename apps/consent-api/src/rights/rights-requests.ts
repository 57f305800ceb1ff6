import {
  decideRightsRequest,
  evolveRightsRequest,
  initialRightsRequest,
  isRightsRequestEventType,
  RIGHTS_EVENT_SCHEMA_VERSION,
  RIGHTS_REQUEST_STREAM_PREFIX,
  type RightsRequest,
  type RightsRequestCommand,
  type RightsRequestEvent,
  rightsRequestOf,
  rightsRequestStreamOf,
} from '@consent-ledger/domain';
import { type EventStore, type StoredEvent, StreamRevisionConflict } from '@consent-ledger/event-store';
import { hash } from 'node:crypto';
import { LogCatchUp } from './log-catch-up';

/**
 * Rights requests, each in its own stream `rights-request-${id}` (never in the subject's consent
 * ledger): read, fold, decide, append at the revision read. Listing goes through an index of every
 * request, caught up with the log before each answer.
 */
export class RightsRequests {
  private readonly index = new Map<string, RightsRequest>();
  private readonly log: LogCatchUp;

  constructor(private readonly store: EventStore) {
    this.log = new LogCatchUp(store, (event) => this.indexEvent(event));
  }

  /** Decides the command on the request's stream; returns the request as it stands afterwards, and whether anything was recorded. */
  async handle(command: RightsRequestCommand): Promise<{ request: RightsRequest; isNew: boolean }> {
    const streamName = rightsRequestStreamOf(command.requestId);
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.store.readStream(streamName);
      const past = stored.map(rightsEventOf);
      const events = decideRightsRequest(command, rightsRequestOf(past));
      if (events.length === 0) return { request: rightsRequestOf(past), isNew: false };
      try {
        await this.store.append(
          streamName,
          events.map((event, index) => ({
            eventId: eventIdOf(command.requestId, stored.length + index),
            type: event.type,
            schemaVersion: RIGHTS_EVENT_SCHEMA_VERSION,
            data: event.data as unknown as Record<string, unknown>,
          })),
          { expectedRevision: stored.length - 1 },
        );
        return { request: rightsRequestOf([...past, ...events]), isNew: true };
      } catch (error) {
        // Two clerks acting on one request at once: decide again on what the other recorded.
        if (!(error instanceof StreamRevisionConflict) || attempt >= 3) throw error;
      }
    }
  }

  async get(requestId: string): Promise<RightsRequest> {
    return rightsRequestOf((await this.store.readStream(rightsRequestStreamOf(requestId))).map(rightsEventOf));
  }

  /** Every request ever received, as the log holds it now. */
  async all(): Promise<RightsRequest[]> {
    await this.log.catchUp();
    return [...this.index.values()];
  }

  private indexEvent(stored: StoredEvent): void {
    if (!stored.streamName.startsWith(RIGHTS_REQUEST_STREAM_PREFIX) || !isRightsRequestEventType(stored.type)) return;
    const requestId = stored.streamName.slice(RIGHTS_REQUEST_STREAM_PREFIX.length);
    this.index.set(requestId, evolveRightsRequest(this.index.get(requestId) ?? initialRightsRequest(), rightsEventOf(stored)));
  }
}

export class UnreadableRightsEvent extends Error {
  constructor(stored: StoredEvent) {
    super(`${stored.streamName} revision ${stored.revision} holds ${stored.type} v${stored.schemaVersion}, which this version cannot read`);
    this.name = 'UnreadableRightsEvent';
  }
}

function rightsEventOf(stored: StoredEvent): RightsRequestEvent {
  if (!isRightsRequestEventType(stored.type) || stored.schemaVersion !== RIGHTS_EVENT_SCHEMA_VERSION) throw new UnreadableRightsEvent(stored);
  return { type: stored.type, data: stored.data } as unknown as RightsRequestEvent;
}

/** Deterministic per request and revision, so a retried append of the same decision dedupes in the store. */
function eventIdOf(requestId: string, revision: number): string {
  const hex = hash('sha256', `rights-request\u0000${requestId}\u0000${revision}`, 'hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
