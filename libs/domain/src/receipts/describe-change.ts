import type { RecordedLedgerEvent } from '../ledger/events';

/** One plain sentence saying what a recorded choice changed, for timelines an auditor reads. */
export function describeChange(event: RecordedLedgerEvent): string {
  switch (event.type) {
    case 'ConsentGiven': {
      const { purpose, channels, noticeVersion, locale, expiresAt } = event.data;
      const on = channels.length > 0 ? ` on ${channels.join(', ')}` : '';
      const until = expiresAt ? `, valid until ${expiresAt}` : ', until withdrawn';
      return `consent given to ${purpose}${on} under notice ${noticeVersion}${locale ? ` (${locale})` : ''}${until}`;
    }
    case 'ConsentWithdrawn':
      return `consent to ${event.data.purpose} withdrawn on every channel`;
    case 'ObjectionRaised':
      return `objection to ${event.data.target}${event.data.needsReview ? ', motivated: processing restricted until reviewed' : ''}`;
    case 'ObjectionWithdrawn':
      return `objection to ${event.data.target} withdrawn`;
    case 'ObjectionReviewed':
      return `objection to ${event.data.target} reviewed: ${event.data.outcome}`;
    case 'ChannelRestricted':
      return `no contact on ${event.data.channel} ${event.data.purpose ? `for ${event.data.purpose}` : 'for any purpose'}`;
    case 'ChannelRestrictionLifted':
      return `contact on ${event.data.channel} allowed again ${event.data.purpose ? `for ${event.data.purpose}` : 'for every purpose'}`;
    case 'SourceOptedOut':
      return `${event.data.source} data no longer used ${event.data.purpose ? `for ${event.data.purpose}` : 'for any profiling'}`;
    case 'SourceOptedIn':
      return `${event.data.source} data may be used again ${event.data.purpose ? `for ${event.data.purpose}` : 'for profiling'}`;
    case 'RelationshipStarted':
      return `became a ${event.data.relationship} (${event.data.segment}) of ${event.data.brand}`;
    case 'RelationshipEnded':
      return `stopped being a ${event.data.relationship} of ${event.data.brand}`;
    case 'SubjectErased':
      return `personal data erased (basis: ${event.data.basis}); only legal obligations, billing records and legal claims remain`;
  }
}
