import { type Catalogue, type Preferences, preferencesOf } from '@consent-ledger/domain';
import type { SubjectView } from '@consent-ledger/read-models';
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
};

/** What caused a publication: an event of the log, or time passing (an expiry, a closing window). */
export interface FeedCause {
  /** De-duplication id: the causing event's id, or `time-<outbox sequence>` for a time-driven change. */
  readonly messageId: string;
  readonly causationId: string;
}

/** The compacted state message for a subject; a tombstone once the subject is erased. */
export function stateMessageOf(view: SubjectView, catalogue: Catalogue, cause: FeedCause): FeedMessage {
  const headers = headersOf(view, cause);
  if (view.ledger.erasure) return { key: view.subjectId, value: null, headers };
  const value: StateValue = {
    schemaVersion: STATE_SCHEMA_VERSION,
    subjectId: view.subjectId,
    position: view.lastPosition.toString(),
    ...preferencesOf(view.ledger, catalogue, { at: view.evaluatedAt, brand: view.brand }),
  };
  return { key: view.subjectId, value: JSON.stringify(value), headers };
}

export function headersOf(view: SubjectView, cause: FeedCause): Record<string, string> {
  return {
    'event-id': cause.messageId,
    'causation-id': cause.causationId,
    'schema-version': String(STATE_SCHEMA_VERSION),
    position: view.lastPosition.toString(),
    'content-type': 'application/json',
  };
}
