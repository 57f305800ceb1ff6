import type { Channel, Decision, Instant, PurposeId } from '@consent-ledger/domain';
import type { GlobalPosition } from '@consent-ledger/event-store';

/**
 * The audiences the operator shares with advertising partners: who may be targeted on Pickx TV,
 * and who the Ads & Data joint controller may target on the web and in apps. Membership is the
 * purpose's decision on the channel the partner reaches the person on, with every data source the
 * purpose uses, so a restriction of that channel or an opt-out of one of those sources removes the
 * subject too. It is decided for every brand the catalogue does not exclude the purpose for, not
 * for the subject's brand (see `audienceDecision` in subject-view.ts).
 */
export const AUDIENCES = [
  { id: 'pickx-tv-ads', purpose: 'targeted-tv-advertising-pickx', channel: 'tv-screen' },
  { id: 'ads-and-data', purpose: 'targeted-web-app-advertising-ads-and-data', channel: 'online-ads' },
] as const satisfies readonly { id: string; purpose: PurposeId; channel: Channel }[];

export type AudienceId = (typeof AUDIENCES)[number]['id'];

export interface AudienceRow {
  readonly audience: AudienceId;
  readonly subjectId: string;
  readonly member: boolean;
  /** When the current membership began (or ended): the person's choice, or the instant a consent lapsed. */
  readonly since: Instant;
  /** Until when a membership holds without a new event (a consent expiring); null for non-members. */
  readonly validUntil: Instant | null;
  /** Log position of the subject's last event when the row last changed. */
  readonly changedAt: GlobalPosition;
}

/** Why the membership is being looked at again: a new event, or time passing. */
export interface MembershipCause {
  /** The person's choice instant for an event; the evaluation instant for a time-driven look. */
  readonly occurredAt: Instant;
  readonly evaluatedAt: Instant;
  readonly position: GlobalPosition;
}

/**
 * `(row | null, decision) → row | null`: a subject who was never a member has no row; a member
 * gets one, and keeps it (with `member: false`) after leaving, so the partner hears about it.
 */
export function nextAudienceRow(
  previous: AudienceRow | null,
  audience: AudienceId,
  subjectId: string,
  decision: Decision,
  cause: MembershipCause,
): AudienceRow | null {
  if (!previous && !decision.allowed) return null;
  const validUntil = decision.allowed ? decision.validUntil : null;
  // A membership that ran out on its own ended when it lapsed, not when someone noticed.
  const lapsedAt = previous?.member && previous.validUntil !== null && previous.validUntil <= cause.evaluatedAt ? previous.validUntil : undefined;
  // A consent given again after the lapse starts a new membership, whether or not the sweep saw the
  // gap (a rebuild never does); one renewed before the lapse continues it, even if recorded later.
  const isNewAfterLapse = previous?.member && decision.allowed && previous.validUntil !== null && previous.validUntil <= cause.occurredAt;
  if (previous && previous.member === decision.allowed && !isNewAfterLapse) {
    return previous.validUntil === validUntil ? previous : { ...previous, validUntil, changedAt: cause.position };
  }
  const since = decision.allowed ? cause.occurredAt : (lapsedAt ?? cause.occurredAt);
  return { audience, subjectId, member: decision.allowed, since, validUntil, changedAt: cause.position };
}
