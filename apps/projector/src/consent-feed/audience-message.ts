import { createHmac } from 'node:crypto';
import type { Instant } from '@consent-ledger/domain';
import type { AudienceId, AudienceRow, SubjectView } from '@consent-ledger/read-models';
import type { FeedMessage } from './feed-message';
import { type FeedCause, headersOf } from './state-message';

/** Version of the audience topics' value. */
export const AUDIENCE_SCHEMA_VERSION = 1;

export interface AudienceValue {
  readonly schemaVersion: typeof AUDIENCE_SCHEMA_VERSION;
  readonly member: boolean;
  /** When the membership began (or ended, for `member: false`). */
  readonly since: Instant;
  /** Until when a membership holds without a new event (a consent expiring); null when no end is known. */
  readonly validUntil: Instant | null;
}

/**
 * Ads & Data is a separate (joint) controller: the privacy statement promises the data reaching it
 * is encrypted so that it cannot identify the person. Its topic is therefore keyed by an HMAC of
 * the subject id under a secret Ads & Data never holds: stable (the same subject keeps its key, so
 * compaction works) but not reversible, and not linkable to our ids without the secret.
 */
export function adsAndDataKeyOf(subjectId: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(subjectId, 'utf8').digest('hex');
}

export interface AudienceKeys {
  keyOf(audience: AudienceId, subjectId: string): string;
  /** Ads & Data must not be able to link a message to our log either (event ids and positions are on the events topic). */
  headersFor(audience: AudienceId, view: Pick<SubjectView, 'lastPosition'>, cause: FeedCause): Record<string, string>;
}

export const audienceKeys = (adsAndDataSecret: Buffer): AudienceKeys => ({
  keyOf: (audience, subjectId) => (audience === 'ads-and-data' ? adsAndDataKeyOf(subjectId, adsAndDataSecret) : subjectId),
  headersFor: (audience, view, cause): Record<string, string> =>
    audience === 'ads-and-data'
      ? {
          'event-id': adsAndDataKeyOf(cause.messageId, adsAndDataSecret),
          'schema-version': String(AUDIENCE_SCHEMA_VERSION),
          'content-type': 'application/json',
        }
      : { ...headersOf(view, cause), 'schema-version': String(AUDIENCE_SCHEMA_VERSION) },
});

export function audienceMessageOf(row: AudienceRow, view: SubjectView, keys: AudienceKeys, cause: FeedCause): FeedMessage {
  const value: AudienceValue = { schemaVersion: AUDIENCE_SCHEMA_VERSION, member: row.member, since: row.since, validUntil: row.validUntil };
  return { key: keys.keyOf(row.audience, view.subjectId), value: JSON.stringify(value), headers: keys.headersFor(row.audience, view, cause) };
}

/** An erased subject leaves every audience: a tombstone removes its key from the compacted topic. */
export function audienceTombstoneOf(audience: AudienceId, view: Pick<SubjectView, 'subjectId' | 'lastPosition'>, keys: AudienceKeys, cause: FeedCause): FeedMessage {
  return { key: keys.keyOf(audience, view.subjectId), value: null, headers: keys.headersFor(audience, view, cause) };
}
