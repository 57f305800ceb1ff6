import { createHash } from 'node:crypto';
import { type Catalogue, type Instant, type Preferences, preferencesOf } from '@consent-ledger/domain';
import { type OtherBrand, otherBrandsPreferencesOf, type SubjectView } from '@consent-ledger/read-models';
import type { FeedMessage } from './feed-message';

/** Version of the `consent.state.v1` value. */
export const STATE_SCHEMA_VERSION = 1;

/**
 * The subject's full current preferences: the body `GET /v1/subjects/{id}/preferences` answers
 * (for the subject's brand, at the instant the read models evaluated it), plus who and how far.
 */
export type StateValue = Preferences & {
  readonly schemaVersion: typeof STATE_SCHEMA_VERSION;
  readonly subjectId: string;
  /** Log position (decimal) of the subject's last event the value reflects. */
  readonly position: string;
  /** The decisions for every other brand the subject dealt with (a customer of both Proximus and Scarlet; a choice made through a touchpoint of the other). */
  readonly otherBrands?: readonly OtherBrand[];
};

export type { OtherBrand };

/** What caused a publication: an event of the log, or time passing (an expiry, a closing window). */
export interface FeedCause {
  /** De-duplication id: the causing event's id, or for a time-driven change `timeDrivenMessageIdOf` it. */
  readonly messageId: string;
  readonly causationId: string;
}

/**
 * The de-duplication id of a change caused by time (or of a republication): a hash of the outbox
 * row's sequence, the subject, the instant the read models evaluated the change, and what its
 * messages say (the state value and the audience memberships sent with it), as `time-<32 hex>`.
 *
 * The sequence alone is no name for a change: it goes back when the read-model database is
 * restored from a backup and starts again at 1 when an embedded `state.sqlite` is deleted, and the
 * next expiry then went out under an id consumers had already seen, so they dropped it; the
 * content in the hash keeps such a reused sequence from naming another change. The content alone
 * is no name either: a rebuild evaluates a subject without news at its last event's instant, as
 * every rebuild before it did, so rules rolled back and deployed again republished a value under
 * the id of the first deployment's message, and a consumer dropped it and kept the rollback's.
 * The sequence, never reused within one database, tells such rounds apart. The same outbox row
 * sent again (the feed crashed before it moved its cursor) computes the same id from the same rows.
 * 128 bits of SHA-256 make an accidental collision negligible.
 */
export function timeDrivenMessageIdOf(
  outboxSequence: number,
  subjectId: string,
  evaluatedAt: Instant,
  stateValue: string | null,
  audiences: readonly AudienceMembershipSaid[],
): string {
  const said = JSON.stringify([outboxSequence, subjectId, evaluatedAt, stateValue, audiences.map(({ audience, member, since, validUntil }) => [audience, member, since, validUntil])]);
  return `time-${createHash('sha256').update(said, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The part of an audience row its message says. */
export interface AudienceMembershipSaid {
  readonly audience: string;
  readonly member: boolean;
  readonly since: Instant;
  readonly validUntil: Instant | null;
}

/**
 * The compacted state message for a subject; a tombstone once the subject is erased. With
 * `purposesJson` (the decisions as the read models just committed them, see CommittedViews), only
 * the rest of the preferences is evaluated here; the JSON is the same either way.
 */
export function stateMessageOf(view: SubjectView, catalogue: Catalogue, cause: FeedCause, purposesJson?: string): FeedMessage {
  const headers = headersOf(view, cause);
  if (view.ledger.erasure) return { key: view.subjectId, value: null, headers };
  const envelope = { schemaVersion: STATE_SCHEMA_VERSION, subjectId: view.subjectId, position: view.lastPosition.toString() } as const;
  const question = { at: view.evaluatedAt, brand: view.brand };
  const others = otherBrandsPreferencesOf(view, catalogue, view.evaluatedAt);
  if (purposesJson === undefined) {
    const value: StateValue = { ...envelope, ...preferencesOf(view.ledger, catalogue, question), ...others };
    return { key: view.subjectId, value: JSON.stringify(value), headers };
  }
  const { purposes: _none, objections, restrictedChannels, optedOutSources, ...head } = {
    ...envelope,
    ...preferencesOf(view.ledger, { ...catalogue, purposes: new Map() }, question),
  };
  const tail = JSON.stringify({ objections, restrictedChannels, optedOutSources, ...others });
  return { key: view.subjectId, value: `${JSON.stringify(head).slice(0, -1)},"purposes":${purposesJson},${tail.slice(1)}`, headers };
}

/**
 * The de-duplication id of the tombstones sent for a subject whose record a proof-retention run
 * removed: one run removes many subjects, and a consumer keeping the ids it has seen, whatever
 * the key, would drop every tombstone of the run but the first under the run's own id.
 */
export function removalMessageIdOf(runEventId: string, subjectId: string): string {
  return `removed-${createHash('sha256').update(JSON.stringify([runEventId, subjectId]), 'utf8').digest('hex').slice(0, 32)}`;
}

export function headersOf(view: Pick<SubjectView, 'lastPosition'>, cause: FeedCause): Record<string, string> {
  return {
    'event-id': cause.messageId,
    'causation-id': cause.causationId,
    'schema-version': String(STATE_SCHEMA_VERSION),
    position: view.lastPosition.toString(),
    'content-type': 'application/json',
  };
}
