import type { EventRef, RecordedLedgerEvent } from './events';
import { assertNever, type ChannelKey, channelScope, type Choice, isLater, type Ledger, type Stamp, sourceScope, type Toggle } from './ledger';

/**
 * The choices, made later by the person's clock, that keep a just-recorded event from standing:
 * late paperwork (a consent signed on Monday, entered on Friday after a withdrawal made on
 * Wednesday) is recorded as evidence, yet the withdrawal still decides. A withdrawal is
 * superseded in part by a consent given later on some channels. Empty when the event stands, or
 * when what stands says the same thing (a later repeat). Pass the ledger with the event folded in.
 */
export function supersededBy(ledger: Ledger, event: RecordedLedgerEvent): EventRef[] {
  const stamp: Stamp = { occurredAt: event.data.capture.occurredAt, revision: event.revision };
  const laterChoices = (choices: readonly (Choice | undefined)[]): EventRef[] => {
    const later = choices.filter((choice): choice is Choice => choice !== undefined && choice.ref.eventId !== event.eventId && isLater(choice.stamp, stamp));
    return [...new Map(later.map((choice) => [choice.ref.eventId, choice.ref])).values()];
  };
  const contrary = (toggle: Toggle | undefined, on: boolean) => laterChoices(toggle && toggle.on !== on ? [toggle] : []);

  switch (event.type) {
    case 'ConsentGiven': {
      const consent = ledger.consents.get(event.data.purpose);
      const keys: readonly ChannelKey[] = event.data.channels.length > 0 ? event.data.channels : ['*'];
      // A later consent on its channels that runs out sooner stands instead: the late one's
      // longer validity never applies. One lasting as long or longer says the same.
      const { expiresAt } = event.data;
      const shorter = keys.map((key) => consent?.grants.get(key)).filter((grant) => grant?.expiresAt !== undefined && (expiresAt === undefined || grant.expiresAt < expiresAt));
      return laterChoices([consent?.withdrawal, ...shorter]);
    }
    case 'ConsentWithdrawn':
      return laterChoices([...(ledger.consents.get(event.data.purpose)?.grants.values() ?? [])]);
    case 'ObjectionRaised':
    case 'ObjectionWithdrawn': {
      const standing = ledger.objections.get(event.data.target);
      return laterChoices(standing && standing.raised !== (event.type === 'ObjectionRaised') ? [standing] : []);
    }
    case 'ObjectionReviewed': {
      const standing = ledger.objections.get(event.data.target);
      // Withdrawn since, or objected to again after it: a new objection, awaiting its own review.
      if (standing && (!standing.raised || standing.stamp.occurredAt > event.data.capture.occurredAt)) return laterChoices([standing]);
      return laterChoices(standing?.review && standing.review.outcome !== event.data.outcome ? [standing.review] : []);
    }
    case 'ChannelRestricted':
    case 'ChannelRestrictionLifted':
      return contrary(ledger.channelRestrictions.get(channelScope(event.data.channel, event.data.purpose)), event.type === 'ChannelRestricted');
    case 'SourceOptedOut':
    case 'SourceOptedIn':
      return contrary(ledger.sourceOptOuts.get(sourceScope(event.data.source, event.data.purpose)), event.type === 'SourceOptedOut');
    case 'RelationshipStarted': {
      const standing = ledger.relationships.get(event.data.brand);
      const saysTheSame = standing?.active && standing.kind === event.data.relationship && standing.segment === event.data.segment;
      return laterChoices(saysTheSame ? [] : [standing]);
    }
    case 'RelationshipEnded': {
      const standing = ledger.relationships.get(event.data.brand);
      return laterChoices(standing?.active ? [standing] : []);
    }
    case 'SubjectErased':
      return [];
    default:
      return assertNever(event);
  }
}
