import type { StreamHead } from './append-planning';
import {
  GENESIS_HASH,
  START,
  type GlobalPosition,
  type IntegrityBreak,
  type IntegrityBreakKind,
  type IntegrityReport,
  type StoredEvent,
} from './event-store.port';
import { hashChainedText, hashEvent } from './hash-chain';
import { hashRemoval, type RemovalRecord } from './removal-record';

/**
 * A stored event as the SQL stores hand it to `verify`: data and metadata as the exact JSON text
 * they keep, hashed as read and parsed only when the hash does not match at once.
 */
export type StoredEventText = Omit<StoredEvent, 'data' | 'metadata'> & { readonly dataJson: string; readonly metadataJson: string };

export type CheckedEvent = StoredEvent | StoredEventText;

/** What a store hands the integrity check, read from one consistent snapshot. */
export interface IntegrityEvidence {
  /** Set to check one stream (events by revision); unset for the whole store (events by position). */
  readonly streamName?: string;
  events(): AsyncIterable<readonly CheckedEvent[]>;
  /** Every stored event of one stream by revision; only asked for to name a break already found. */
  streamEvents(streamName: string): Promise<readonly CheckedEvent[]>;
  readonly removals: readonly RemovalRecord[];
  /** Heads the store keeps apart from the events (the SQL `streams` table); absent on KurrentDB. */
  readonly heads?: ReadonlyMap<string, StreamHead>;
  /** Highest position ever handed out, on stores whose positions are dense. */
  readonly lastAssignedPosition?: GlobalPosition;
}

interface ChainTip {
  readonly revision: number;
  readonly hash: string;
  readonly position: GlobalPosition;
}

const PROGRESS_EVERY = 5000;
const EMPTY_TIP: ChainTip = { revision: -1, hash: GENESIS_HASH, position: START };

/**
 * Walks the hash chains and reports the first break. The checks per event run from the most
 * specific explanation to the least: a missing global position, an event beyond the stream's
 * recorded head, content that does not match its own hash (and where that content belongs),
 * a revision out of sequence, and finally a link that no longer matches the previous event.
 */
export async function checkIntegrity(
  evidence: IntegrityEvidence,
  onProgress?: (eventsChecked: number) => void,
): Promise<IntegrityReport> {
  const isWholeStore = evidence.streamName === undefined;
  const tips = new Map<string, ChainTip>();
  let eventsChecked = 0;
  const report = (firstBreak?: IntegrityBreak): IntegrityReport => ({
    intact: firstBreak === undefined,
    eventsChecked,
    streamsChecked: tips.size,
    ...(firstBreak ? { firstBreak } : {}),
  });

  const removalBreak = checkRemovalChain(evidence.removals);
  if (removalBreak) return report(removalBreak);
  const excusedPositions = new Set(evidence.removals.flatMap((removal) => removal.positions.map(String)));
  let lastPosition = START;

  const firstUnexcusedGap = (from: GlobalPosition, to: GlobalPosition): GlobalPosition | undefined => {
    for (let position = from; position <= to; position += 1n) {
      if (!excusedPositions.has(String(position))) return position;
    }
    return undefined;
  };

  const checkGlobalPosition = (event: CheckedEvent): IntegrityBreak | undefined => {
    if (!isWholeStore || evidence.lastAssignedPosition === undefined) return undefined;
    if (event.position > evidence.lastAssignedPosition) {
      return at('inserted', event, `global position ${event.position} was never handed out by the store`);
    }
    const missing = firstUnexcusedGap(lastPosition + 1n, event.position - 1n);
    if (missing !== undefined) {
      return { kind: 'removed', position: missing, detail: `global position ${missing} is missing and no removal was recorded for it` };
    }
    return undefined;
  };

  const checkRecordedHead = (event: CheckedEvent): IntegrityBreak | undefined => {
    if (!evidence.heads) return undefined;
    const head = evidence.heads.get(event.streamName);
    if (!head || event.revision > head.revision) {
      return at('inserted', event, `revision ${event.revision} of ${event.streamName} lies beyond the head the store recorded for the stream`);
    }
    return undefined;
  };

  const classifyForeignContent = async (event: StoredEvent): Promise<IntegrityBreak> => {
    const stream = (await evidence.streamEvents(event.streamName)).map(parsed);
    const byRevision = new Map(stream.map((stored) => [stored.revision, stored]));
    const belongsAt = [...byRevision.keys()].find(
      (revision) => revision !== event.revision && hashEvent({ ...event, revision }) === event.hash,
    );
    if (belongsAt === undefined) {
      return at('altered', event, `the content of revision ${event.revision} of ${event.streamName} no longer matches its hash`);
    }
    if (belongsAt < event.revision) {
      // Two events claim the same predecessor: the one now at `belongsAt` was slipped in before it.
      const occupant = byRevision.get(belongsAt)!;
      const predecessorHash = belongsAt === 0 ? GENESIS_HASH : byRevision.get(belongsAt - 1)?.hash;
      if (hashEvent(occupant) === occupant.hash && occupant.previousHash === event.previousHash && event.previousHash === predecessorHash) {
        return at('inserted', occupant, `${event.revision - belongsAt} event(s) were inserted into ${event.streamName} at revision ${belongsAt}`);
      }
    }
    return at('reordered', event, `the event stored as revision ${event.revision} of ${event.streamName} was written as revision ${belongsAt}`);
  };

  const checkSequence = async (event: CheckedEvent, tip: ChainTip): Promise<IntegrityBreak | undefined> => {
    if (event.revision <= tip.revision) {
      return isWholeStore
        ? at('reordered', event, `revision ${event.revision} of ${event.streamName} comes after revision ${tip.revision} in the global log`)
        : at('inserted', event, `revision ${event.revision} of ${event.streamName} is stored more than once`);
    }
    if (event.revision > tip.revision + 1) {
      const missing = tip.revision + 1;
      if (isWholeStore) {
        const later = (await evidence.streamEvents(event.streamName)).find((stored) => stored.revision === missing);
        if (later) {
          return at('reordered', later, `revision ${missing} of ${event.streamName} comes after revision ${event.revision} in the global log`);
        }
      }
      return {
        kind: 'removed',
        streamName: event.streamName,
        revision: missing,
        detail: `revisions ${missing} to ${event.revision - 1} of ${event.streamName} are missing and no removal was recorded`,
      };
    }
    if (!isWholeStore && event.position <= tip.position) {
      return at('reordered', event, `revision ${event.revision} of ${event.streamName} has an earlier global position than revision ${tip.revision}`);
    }
    return undefined;
  };

  const checkLink = (event: CheckedEvent, tip: ChainTip): IntegrityBreak | undefined => {
    if (event.previousHash === tip.hash) return undefined;
    if (tip.revision < 0) {
      return at('altered', event, `revision ${event.revision} of ${event.streamName} does not chain to the genesis hash`);
    }
    return {
      kind: 'altered',
      streamName: event.streamName,
      revision: tip.revision,
      position: tip.position,
      detail: `revision ${tip.revision} of ${event.streamName} no longer has the hash that revision ${event.revision} recorded for it`,
    };
  };

  for await (const page of evidence.events()) {
    for (const event of page) {
      const tip = tips.get(event.streamName) ?? EMPTY_TIP;
      const found =
        checkGlobalPosition(event) ??
        checkRecordedHead(event) ??
        (!matchesItsHash(event) ? await classifyForeignContent(parsed(event)) : undefined) ??
        (await checkSequence(event, tip)) ??
        checkLink(event, tip);
      if (found) return report(found);

      tips.set(event.streamName, { revision: event.revision, hash: event.hash, position: event.position });
      lastPosition = event.position;
      eventsChecked += 1;
      if (eventsChecked % PROGRESS_EVERY === 0) onProgress?.(eventsChecked);
    }
  }

  const tailBreak = checkRecordedHeadsReached(evidence, tips) ?? checkLogTail();
  onProgress?.(eventsChecked);
  return report(tailBreak);

  function checkLogTail(): IntegrityBreak | undefined {
    if (!isWholeStore || evidence.lastAssignedPosition === undefined) return undefined;
    const missing = firstUnexcusedGap(lastPosition + 1n, evidence.lastAssignedPosition);
    if (missing === undefined) return undefined;
    return { kind: 'removed', position: missing, detail: `global position ${missing} is missing at the end of the log and no removal was recorded for it` };
  }
}

function checkRecordedHeadsReached(evidence: IntegrityEvidence, tips: ReadonlyMap<string, ChainTip>): IntegrityBreak | undefined {
  if (!evidence.heads) return undefined;
  for (const [streamName, head] of evidence.heads) {
    if (head.revision < 0) continue;
    const tip = tips.get(streamName) ?? EMPTY_TIP;
    if (tip.revision < head.revision) {
      return {
        kind: 'removed',
        streamName,
        revision: tip.revision + 1,
        detail: `${streamName} ends at revision ${tip.revision} but the store recorded its head at revision ${head.revision}`,
      };
    }
    if (tip.hash !== head.hash) {
      return {
        kind: 'altered',
        streamName,
        revision: tip.revision,
        position: tip.position,
        detail: `the last event of ${streamName} no longer has the hash the store recorded for the stream's head`,
      };
    }
  }
  return undefined;
}

function checkRemovalChain(removals: readonly RemovalRecord[]): IntegrityBreak | undefined {
  let previousHash = GENESIS_HASH;
  for (const [index, removal] of removals.entries()) {
    if (removal.sequence !== index + 1) {
      return { kind: 'removed', detail: `removal record ${index + 1} is missing: the record of a sanctioned removal was deleted` };
    }
    if (hashRemoval(removal) !== removal.hash || removal.previousHash !== previousHash) {
      return {
        kind: 'altered',
        streamName: removal.streamName,
        detail: `removal record ${removal.sequence} (stream ${removal.streamName}) was changed after it was written`,
      };
    }
    previousHash = removal.hash;
  }
  return undefined;
}

/**
 * Text as stored hashes as read. Text that is not canonical (rows written before the stores kept
 * canonical text, or edited into another key order) is parsed and hashed the canonical way.
 */
function matchesItsHash(event: CheckedEvent): boolean {
  if (!('dataJson' in event)) return hashEvent(event) === event.hash;
  return hashChainedText(event) === event.hash || hashEvent(parsed(event)) === event.hash;
}

function parsed(event: CheckedEvent): StoredEvent {
  if (!('dataJson' in event)) return event;
  const { dataJson, metadataJson, ...rest } = event;
  return { ...rest, data: parseStored(dataJson), metadata: parseStored(metadataJson) };
}

/** Text edited into something that is not JSON can only be reported as altered, never crash the walk. */
function parseStored(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return { 'unreadable JSON': json };
  }
}

function at(kind: IntegrityBreakKind, event: CheckedEvent, detail: string): IntegrityBreak {
  return { kind, streamName: event.streamName, revision: event.revision, position: event.position, detail };
}
