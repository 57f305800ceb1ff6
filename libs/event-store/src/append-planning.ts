import type { AppendRequest } from './append-request';
import { EventIdConflict, StreamRevisionConflict } from './errors';
import { GENESIS_HASH, type AppendResult, type ExpectedRevision, type GlobalPosition, type StoredEvent } from './event-store.port';
import { hashChainedText } from './hash-chain';

/** Last revision and hash of a stream; revision -1 with GENESIS_HASH when it has no events. */
export interface StreamHead {
  readonly revision: number;
  readonly hash: string;
}

export const EMPTY_STREAM_HEAD: StreamHead = { revision: -1, hash: GENESIS_HASH };

/** Where an already stored event id lives, to tell an idempotent retry from a reused id. */
export interface StoredEventLocation {
  readonly streamName: string;
  readonly revision: number;
  readonly position: GlobalPosition;
}

/** An event chained and hashed, waiting for the global position the store gives it on insert. */
export type UnpositionedEvent = Omit<StoredEvent, 'position'> & { readonly dataJson: string; readonly metadataJson: string };

type AppendOutcome =
  | { readonly kind: 'write'; readonly firstRow: number; readonly count: number; readonly deduplicated: boolean }
  | { readonly kind: 'already-stored'; readonly result: AppendResult }
  | { readonly kind: 'rejected'; readonly error: Error };

/** What one transaction writes for a group of appends, and what each append will be told. */
export interface GroupPlan {
  /** Rows to insert, in the order they must take global positions. */
  readonly rows: readonly UnpositionedEvent[];
  /** The new head of every stream the group writes to. */
  readonly newHeads: ReadonlyMap<string, StreamHead>;
  readonly outcomes: readonly AppendOutcome[];
}

/**
 * Decides, in arrival order, what happens to each append of a group that will be written in one
 * transaction. Each append keeps its own idempotency and concurrency check, so one append's
 * conflict never fails the others, and a later append to the same stream sees the earlier one.
 *
 * `heads` must be read under the stream locks of the transaction and `stored` after taking them,
 * otherwise a concurrent writer could slip in between the check and the write.
 */
export function planGroup(
  requests: readonly AppendRequest[],
  heads: ReadonlyMap<string, StreamHead>,
  stored: ReadonlyMap<string, StoredEventLocation>,
  recordedAt: string,
): GroupPlan {
  const rows: UnpositionedEvent[] = [];
  const newHeads = new Map<string, StreamHead>();
  const claimedInGroup = new Map<string, { streamName: string; revision: number; row: number }>();

  const outcomes = requests.map((request): AppendOutcome => {
    const head = newHeads.get(request.streamName) ?? heads.get(request.streamName) ?? EMPTY_STREAM_HEAD;

    const earlier = findEarlierCopy(request, stored, claimedInGroup);
    if (earlier instanceof Error) return { kind: 'rejected', error: earlier };
    if (earlier?.kind === 'stored') return { kind: 'already-stored', result: earlier.result };
    if (earlier?.kind === 'in-group') {
      return { kind: 'write', firstRow: earlier.firstRow, count: request.events.length, deduplicated: true };
    }

    if (!isAtExpectedRevision(request.expectedRevision, head.revision)) {
      return {
        kind: 'rejected',
        error: new StreamRevisionConflict(request.streamName, request.expectedRevision, head.revision),
      };
    }

    const firstRow = rows.length;
    let previousHash = head.hash;
    request.events.forEach((event, index) => {
      const content = {
        streamName: request.streamName,
        revision: head.revision + 1 + index,
        eventId: event.eventId,
        type: event.type,
        schemaVersion: event.schemaVersion,
        data: event.data,
        metadata: event.metadata,
        dataJson: event.dataJson,
        metadataJson: event.metadataJson,
        recordedAt,
        previousHash,
      };
      const hash = hashChainedText(content);
      claimedInGroup.set(event.eventId, { streamName: request.streamName, revision: content.revision, row: rows.length });
      rows.push({ ...content, hash });
      previousHash = hash;
    });
    newHeads.set(request.streamName, { revision: head.revision + request.events.length, hash: previousHash });
    return { kind: 'write', firstRow, count: request.events.length, deduplicated: false };
  });

  return { rows, newHeads, outcomes };
}

/** Each append's result once the rows have their positions (`positions[i]` belongs to `rows[i]`). */
export function settleGroup(plan: GroupPlan, positions: readonly GlobalPosition[]): Array<AppendResult | Error> {
  return plan.outcomes.map((outcome) => {
    if (outcome.kind === 'rejected') return outcome.error;
    if (outcome.kind === 'already-stored') return outcome.result;
    const written = plan.rows.slice(outcome.firstRow, outcome.firstRow + outcome.count);
    return appendResult(
      written.map((row, index) => ({
        streamName: row.streamName,
        eventId: row.eventId,
        revision: row.revision,
        position: positions[outcome.firstRow + index],
      })),
      outcome.deduplicated,
    );
  });
}

export function isAtExpectedRevision(expected: ExpectedRevision, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no-stream':
      return actual === -1;
    case 'stream-exists':
      return actual >= 0;
    default:
      return actual === expected;
  }
}

function appendResult(
  events: ReadonlyArray<{ streamName: string; eventId: string; revision: number; position: GlobalPosition }>,
  deduplicated: boolean,
): AppendResult {
  const last = events[events.length - 1];
  return {
    streamName: last.streamName,
    events: events.map(({ eventId, revision, position }) => ({ eventId, revision, position })),
    nextExpectedRevision: last.revision,
    position: last.position,
    deduplicated,
  };
}

type EarlierCopy =
  | { readonly kind: 'stored'; readonly result: AppendResult }
  | { readonly kind: 'in-group'; readonly firstRow: number }
  | undefined;

/**
 * An append is a retry when every one of its ids is already stored, in its stream, as one run of
 * consecutive revisions in the same order. Any other overlap is a reused id: retrying cannot help.
 */
function findEarlierCopy(
  request: AppendRequest,
  stored: ReadonlyMap<string, StoredEventLocation>,
  claimedInGroup: ReadonlyMap<string, { streamName: string; revision: number; row: number }>,
): EarlierCopy | EventIdConflict {
  const ids = request.events.map((event) => event.eventId);
  const inStore = ids.map((id) => stored.get(id));
  const inGroup = ids.map((id) => claimedInGroup.get(id));
  const foundCount = ids.filter((_, index) => inStore[index] ?? inGroup[index]).length;
  if (foundCount === 0) return undefined;

  const elsewhere = ids.findIndex((_, index) => {
    const found = inStore[index] ?? inGroup[index];
    return found !== undefined && found.streamName !== request.streamName;
  });
  if (elsewhere >= 0) {
    const other = (inStore[elsewhere] ?? inGroup[elsewhere])!.streamName;
    return new EventIdConflict(ids[elsewhere], `it belongs to stream ${other}, not ${request.streamName}`);
  }
  if (foundCount < ids.length) {
    const firstFound = ids.find((_, index) => inStore[index] ?? inGroup[index])!;
    return new EventIdConflict(firstFound, `only part of this append to ${request.streamName} was stored before`);
  }

  if (inStore.every(Boolean)) {
    const locations = inStore as StoredEventLocation[];
    if (!areConsecutive(locations.map((location) => location.revision))) {
      return new EventIdConflict(ids[0], `the ids are stored in ${request.streamName} in another order`);
    }
    return {
      kind: 'stored',
      result: appendResult(
        locations.map((location, index) => ({ ...location, eventId: ids[index] })),
        true,
      ),
    };
  }
  if (inGroup.every(Boolean)) {
    const claims = inGroup as Array<{ revision: number; row: number }>;
    if (!areConsecutive(claims.map((claim) => claim.revision))) {
      return new EventIdConflict(ids[0], `the ids were just appended to ${request.streamName} in another order`);
    }
    return { kind: 'in-group', firstRow: claims[0].row };
  }
  return new EventIdConflict(ids[0], `the ids of this append to ${request.streamName} were stored by different appends`);
}

function areConsecutive(revisions: readonly number[]): boolean {
  return revisions.every((revision, index) => revision === revisions[0] + index);
}
