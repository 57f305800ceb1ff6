import { type Catalogue, CHANNELS, type Channel, type Instant, isConsentedToSince, purposesReachedBy } from '@consent-ledger/domain';
import type { SubjectView } from '../subject-ledger/subject-view';

export type SuppressionReason = 'channel-restricted' | 'objected' | 'objection-pending-review' | 'subject-erased';

/**
 * Who must not be contacted on a channel: what a campaign tool subtracts from its own list.
 * `scope` is `*`, a purpose id, or a purpose group such as `direct-marketing`. A restriction's `*`
 * (no purpose named) stops marketing only, the members of `direct-marketing` (`isStoppedByGeneralRestriction`):
 * a tool sending invitations to market research, the app's service notifications or carrier billing's
 * SMS subtracts only rows naming its purpose, and an erasure's `*`, which stops everything.
 */
export interface SuppressionRow {
  readonly channel: Channel;
  readonly subjectId: string;
  readonly scope: string;
  readonly reason: SuppressionReason;
  /** When the person made the choice that put them on the list. */
  readonly since: Instant;
}

export const suppressionKey = (row: Pick<SuppressionRow, 'channel' | 'subjectId' | 'scope' | 'reason'>): string =>
  `${row.channel}|${row.subjectId}|${row.scope}|${row.reason}`;

export function suppressionRowsOf(view: SubjectView, catalogue: Catalogue): SuppressionRow[] {
  const { ledger, subjectId } = view;
  const rows: SuppressionRow[] = [];
  for (const restriction of ledger.channelRestrictions.values()) {
    if (!restriction.on) continue;
    rows.push({ channel: restriction.channel, subjectId, scope: restriction.purpose ?? '*', reason: 'channel-restricted', since: restriction.stamp.occurredAt });
  }
  for (const [target, objection] of ledger.objections) {
    if (!objection.raised || objection.review?.outcome === 'rejected') continue;
    // An objection suppresses the channels its purpose (or every member of its group) contacts people on.
    const purposes = purposesReachedBy(catalogue, target).flatMap((id) => catalogue.purposes.get(id) ?? []);
    const channels = new Set(purposes.flatMap((purpose) => purpose.channels));
    const reason: SuppressionReason = objection.needsReview && !objection.review ? 'objection-pending-review' : 'objected';
    const since = objection.stamp.occurredAt;
    for (const channel of channels) {
      const reached = purposes.filter((purpose) => purpose.channels.includes(channel));
      // A consent given since the objection is the person's latest word for its purpose on its
      // channels (see mayProcess): a row for the whole group would have a tool leave out the
      // prospect who subscribed to the newsletter again. On such a channel the objection is listed
      // under each purpose it still stops instead.
      const stopped = objection.needsReview ? reached : reached.filter((purpose) => !isConsentedToSince(ledger, purpose, objection, channel));
      if (stopped.length === reached.length) rows.push({ channel, subjectId, scope: target, reason, since });
      else for (const purpose of stopped) rows.push({ channel, subjectId, scope: purpose.id, reason, since });
    }
  }
  if (ledger.erasure) {
    for (const channel of CHANNELS) rows.push({ channel, subjectId, scope: '*', reason: 'subject-erased', since: ledger.erasure.stamp.occurredAt });
  }
  return rows;
}
