import { type Catalogue, isStoppedByGeneralRestriction, purposesReachedBy, subjectHasASay } from '../catalogue/catalogue';
import type { LedgerEvent } from '../ledger/events';
import type { PurposeId } from '../vocabulary';

/**
 * The purposes a choice is about: the purpose named, the members of an objected group, or, for a
 * restriction or opt-out without a purpose, every purpose using the channel or source that the
 * decisions let it stop (the same rules, so a receipt never claims more than is kept).
 * Relationship events and erasure name no purpose: [].
 */
export function purposesOfEvent(event: LedgerEvent, catalogue: Catalogue): readonly PurposeId[] {
  switch (event.type) {
    case 'ConsentGiven':
    case 'ConsentWithdrawn':
      return [event.data.purpose];
    case 'ObjectionRaised':
    case 'ObjectionWithdrawn':
    case 'ObjectionReviewed':
      return purposesReachedBy(catalogue, event.data.target);
    case 'ChannelRestricted':
    case 'ChannelRestrictionLifted': {
      const { channel, purpose } = event.data;
      if (purpose !== undefined) return [purpose];
      return [...catalogue.purposes.values()].filter((p) => isStoppedByGeneralRestriction(p, catalogue) && p.channels.includes(channel)).map((p) => p.id);
    }
    case 'SourceOptedOut':
    case 'SourceOptedIn': {
      const { source, purpose } = event.data;
      if (purpose !== undefined) return [purpose];
      return [...catalogue.purposes.values()].filter((p) => subjectHasASay(p) && p.sources.includes(source)).map((p) => p.id);
    }
    case 'RelationshipStarted':
    case 'RelationshipEnded':
    case 'SubjectErased':
      return [];
  }
}
