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
import { EventIdConflict, type EventStore, type GlobalPosition, type StoredEvent, StreamRevisionConflict, streamNamePages } from '@consent-ledger/event-store';
import { type CommandOrigin, IdempotencyKeyReused, nameBasedUuid } from '@consent-ledger/ledger-commands';
import { LogCatchUp } from './log-catch-up';

/** Who sent a call on a rights request, under which key (a fresh one when the call gave none), and which call it was. */
export interface RightsRequestTrace extends CommandOrigin {
  /** `requestFingerprint` of the call as received: tells its retry from another call under the key. */
  readonly requestFingerprint: string;
}

export interface RightsRequestHandled {
  readonly request: RightsRequest;
  /** Something was recorded, by this attempt or (`isEarlierAnswer`) by an earlier attempt of the same call. */
  readonly isNew: boolean;
  readonly isEarlierAnswer: boolean;
}

/** A request as it stands, with the log position its receipt was recorded at: where a page of requests in recording order ends. */
export interface RecordedRightsRequest {
  readonly request: RightsRequest;
  readonly receiptPosition: GlobalPosition;
}

/** Rights-request streams read at once while the index is built: one page of names. */
const STREAMS_PER_PAGE = 500;

/**
 * Rights requests, each in its own stream `rights-request-${id}` (never in the subject's consent
 * ledger): read, fold, decide, append at the revision read (idempotency keys: `RightsRequestIntake`). Listing goes through an index of every
 * request, built from the rights-request streams alone and then caught up with the log before each answer.
 */
export class RightsRequests {
  private readonly index = new Map<string, RightsRequest>();
  /**
   * Request ids in the order the log recorded their receipt, with its position. The log gives
   * events in position order and a position once seen never has an earlier one appear after it
   * (ADR 0002), so requests recorded later are only ever added at the end: a page that continues
   * after a position neither skips nor repeats one, whatever was recorded between pages.
   */
  private readonly receipts: Array<{ readonly requestId: string; readonly position: GlobalPosition }> = [];
  private readonly log: LogCatchUp;

  constructor(private readonly store: EventStore) {
    this.log = new LogCatchUp(store, (event) => this.indexEvent(event), { begin: () => this.indexRequestStreams() });
  }

  /**
   * Decides the command on the request's stream; returns the request as it stands afterwards, and
   * whether anything was recorded. The events' ids derive from who sent the call, its idempotency
   * key and the request (`rightsEventIdFor`), so a call decided again after its first attempt was
   * recorded (a retry whose answer was lost, another process deciding the same key) finds its
   * events and answers as the first attempt did, and the store refuses to record them twice.
   */
  async handle(command: RightsRequestCommand, trace: RightsRequestTrace): Promise<RightsRequestHandled> {
    const streamName = rightsRequestStreamOf(command.requestId);
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.store.readStream(streamName);
      const earlier = earlierAnswerOf(stored, command.requestId, trace);
      if (earlier) return { request: earlier, isNew: true, isEarlierAnswer: true };
      const past = stored.map(rightsEventOf);
      const events = decideRightsRequest(command, rightsRequestOf(past));
      if (events.length === 0) return { request: rightsRequestOf(past), isNew: false, isEarlierAnswer: false };
      try {
        const appended = await this.store.append(
          streamName,
          events.map((event, index) => ({
            eventId: rightsEventIdFor(trace, command.requestId, index),
            type: event.type,
            schemaVersion: RIGHTS_EVENT_SCHEMA_VERSION,
            data: event.data as unknown as Record<string, unknown>,
            metadata: { commandType: command.type, client: trace.client, idempotencyKey: trace.idempotencyKey, requestFingerprint: trace.requestFingerprint },
          })),
          { expectedRevision: stored.length - 1 },
        );
        if (appended.deduplicated) {
          // An attempt of this very call was stored meanwhile (another process took the same key): answer as it did.
          const firstAttempt = earlierAnswerOf(await this.store.readStream(streamName), command.requestId, trace);
          if (firstAttempt) return { request: firstAttempt, isNew: true, isEarlierAnswer: true };
        }
        return { request: rightsRequestOf([...past, ...events]), isNew: true, isEarlierAnswer: false };
      } catch (error) {
        if (error instanceof EventIdConflict) throw new IdempotencyKeyReused(trace.client, trace.idempotencyKey);
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

  /**
   * Up to `limit` requests that `matches`, in the order their receipt was recorded, from after the
   * one recorded at `after` (START: from the first); `more` when another matching one follows.
   */
  async recordedAfter(after: GlobalPosition, limit: number, matches: (request: RightsRequest) => boolean): Promise<{ requests: RecordedRightsRequest[]; more: boolean }> {
    await this.log.catchUp();
    const requests: RecordedRightsRequest[] = [];
    for (let at = this.firstReceiptAfter(after); at < this.receipts.length; at += 1) {
      const { requestId, position } = this.receipts[at];
      const request = this.index.get(requestId)!;
      if (!matches(request)) continue;
      if (requests.length === limit) return { requests, more: true };
      requests.push({ request, receiptPosition: position });
    }
    return { requests, more: false };
  }

  private firstReceiptAfter(after: GlobalPosition): number {
    let low = 0;
    let high = this.receipts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.receipts[middle].position <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Builds the index from the rights-request streams, found by name (a few thousand among millions
   * of subject streams), as the log held them at its head; returns that head, from which the log is
   * followed. The head is taken before the first name is listed: an event appended while the
   * streams are read lies after it, so it is left out here and applied by the catch-up from the
   * head, once; a stream that only began after the head is left to the catch-up whole. Nothing is
   * indexed until every stream was read, so a failure half-way leaves no request indexed twice when
   * the next call starts again.
   */
  private async indexRequestStreams(): Promise<GlobalPosition> {
    const head = await this.store.headPosition();
    const found: Array<{ readonly requestId: string; readonly request: RightsRequest; readonly receiptPosition: GlobalPosition }> = [];
    for await (const names of streamNamePages(this.store, RIGHTS_REQUEST_STREAM_PREFIX, STREAMS_PER_PAGE)) {
      const streams = await Promise.all(names.map((name) => this.store.readStream(name)));
      for (const stored of streams) {
        const known = stored.filter((event) => event.position <= head && isRightsRequestEventType(event.type));
        if (known.length === 0) continue;
        const requestId = known[0].streamName.slice(RIGHTS_REQUEST_STREAM_PREFIX.length);
        found.push({ requestId, request: rightsRequestOf(known.map(rightsEventOf)), receiptPosition: known[0].position });
      }
    }
    // Read in name order; pages of the list go in the order the log recorded each receipt.
    found.sort((a, b) => (a.receiptPosition < b.receiptPosition ? -1 : a.receiptPosition > b.receiptPosition ? 1 : 0));
    for (const { requestId, request, receiptPosition } of found) {
      this.index.set(requestId, request);
      this.receipts.push({ requestId, position: receiptPosition });
    }
    return head;
  }

  private indexEvent(stored: StoredEvent): void {
    if (!stored.streamName.startsWith(RIGHTS_REQUEST_STREAM_PREFIX) || !isRightsRequestEventType(stored.type)) return;
    const requestId = stored.streamName.slice(RIGHTS_REQUEST_STREAM_PREFIX.length);
    if (!this.index.has(requestId)) this.receipts.push({ requestId, position: stored.position });
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

/**
 * The `index`-th event a call appends to a request. Tagged, so that no command's event id (client,
 * key, subject, index) is ever the same.
 */
function rightsEventIdFor({ client, idempotencyKey }: CommandOrigin, requestId: string, index: number): string {
  return nameBasedUuid(['rights-request', client, idempotencyKey, requestId, index]);
}

/** The id of a request received without a ticket id: the same on every retry with the key, so a retry finds it. */
export function requestIdFor({ client, idempotencyKey }: CommandOrigin): string {
  return nameBasedUuid(['rights-request-id', client, idempotencyKey]);
}

/** The request as the traced call's first attempt left it, when that attempt's events are in the stream. */
function earlierAnswerOf(stored: readonly StoredEvent[], requestId: string, trace: RightsRequestTrace): RightsRequest | undefined {
  const first = stored.findIndex((event) => event.eventId === rightsEventIdFor(trace, requestId, 0));
  if (first < 0) return undefined;
  // The key's first call was another one (its record may have expired): this is not its retry.
  if (stored[first].metadata.requestFingerprint !== trace.requestFingerprint) throw new IdempotencyKeyReused(trace.client, trace.idempotencyKey);
  let last = first;
  while (stored[last + 1]?.eventId === rightsEventIdFor(trace, requestId, last + 1 - first)) last += 1;
  return rightsRequestOf(stored.slice(0, last + 1).map(rightsEventOf));
}
