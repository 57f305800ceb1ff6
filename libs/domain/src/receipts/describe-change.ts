import { type Catalogue, isStoppedByGeneralRestriction, type PurposeDefinition, subjectHasASay } from '../catalogue/catalogue';
import { isForCustomersOnly, lapsesAt } from '../ledger/consent/consent-status';
import type { ConsentGiven, RecordedLedgerEvent } from '../ledger/events';
import type { Duration } from '../time';
import type { Channel, DataSource, PurposeId } from '../vocabulary';

/**
 * One plain sentence saying what a recorded choice changed, for timelines an auditor reads and
 * the export the person reads. It must say what decisions do with the choice, so it reads the
 * rules in force (`catalogue`), which decisions and a receipt's validity follow too.
 */
export function describeChange(event: RecordedLedgerEvent, catalogue: Catalogue): string {
  switch (event.type) {
    case 'ConsentGiven': {
      const { purpose, channels, noticeVersion, locale } = event.data;
      const on = channels.length > 0 ? ` on ${channels.join(', ')}` : '';
      return `consent given to ${purpose}${on} under notice ${noticeVersion}${locale ? ` (${locale})` : ''}${consentEndOf(event.data, catalogue.purposes.get(purpose))}`;
    }
    case 'ConsentWithdrawn':
      return `consent to ${event.data.purpose} withdrawn on every channel`;
    case 'ObjectionRaised':
      return `objection to ${event.data.target}${event.data.needsReview ? ', motivated: processing restricted until reviewed' : ''}`;
    case 'ObjectionWithdrawn':
      return `objection to ${event.data.target} withdrawn`;
    case 'ObjectionReviewed':
      return `objection to ${event.data.target} reviewed: ${event.data.outcome}`;
    case 'ChannelRestricted': {
      const { channel, purpose } = event.data;
      if (purpose) return withoutEffectOn(purpose, catalogue) ?? `no contact on ${channel} for ${purpose}`;
      const carriedOn = purposesOnChannelNotMarketing(channel, catalogue);
      return `no contact on ${channel} for marketing${carriedOn.length > 0 ? `; it does not stop ${channel} for ${carriedOn.join(', ')}` : ''}`;
    }
    case 'ChannelRestrictionLifted':
      return event.data.purpose
        ? `${event.data.channel} no longer refused for ${event.data.purpose}`
        : `${event.data.channel} no longer refused for marketing (a restriction recorded for one purpose stays)`;
    case 'SourceOptedOut': {
      const { source, purpose } = event.data;
      if (purpose) return withoutEffectOn(purpose, catalogue) ?? `${source} data no longer used for ${purpose}`;
      const kinds = categoriesWithASayUsing(source, catalogue);
      const carriedOn = [...catalogue.purposes.values()].filter((each) => each.sources.includes(source) && !subjectHasASay(each)).map((each) => each.id);
      return (
        `${source} data no longer used for any purpose the person may refuse or object to${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}` +
        (carriedOn.length > 0 ? `; it is still used for ${carriedOn.join(', ')}` : '')
      );
    }
    case 'SourceOptedIn':
      return event.data.purpose
        ? `${event.data.source} data no longer refused for ${event.data.purpose}`
        : `${event.data.source} data no longer refused for every purpose (an opt-out recorded for one purpose stays)`;
    case 'RelationshipStarted':
      return `became a ${event.data.relationship} (${event.data.segment}) of ${event.data.brand}`;
    case 'RelationshipEnded':
      return `stopped being a ${event.data.relationship} of ${event.data.brand}`;
    case 'SubjectErased':
      return `personal data erased (basis: ${event.data.basis}); only legal obligations, billing records and legal claims remain`;
  }
}

/**
 * What ends a consent besides its withdrawal, as `endsByItself` decides it: its expiry, the
 * purpose's notice replaced, the contract it was given under (with the purpose's window after it).
 * Without the purpose in the catalogue, only the event's own expiry is known.
 */
function consentEndOf(consent: ConsentGiven['data'], purpose: PurposeDefinition | undefined): string {
  const { expiresAt, noticeVersion } = consent;
  const lapses = purpose ? lapsesAt({ givenAt: consent.capture.occurredAt, expiresAt, noticeVersion }, purpose) : expiresAt;
  const onADate = lapses === undefined ? '' : `, valid until ${lapses}${lapses !== expiresAt ? ` (when notice ${noticeVersion} was replaced for this purpose)` : ''}`;
  const withContract = purpose && contractEndOf(purpose);
  if (!withContract) return onADate || (purpose ? ', until withdrawn' : '');
  return onADate ? `${onADate}, or until ${withContract} if sooner` : `, until withdrawn or until ${withContract}`;
}

/** As `contractEndingConsent`: a purpose for customers only ends with the contract, or with its former-customer window after it. */
function contractEndOf(purpose: PurposeDefinition): string | undefined {
  if (!isForCustomersOnly(purpose)) return undefined;
  const contract = 'the customer contract it was given under ends';
  if (!purpose.audience.includes('former-customer')) return contract;
  return purpose.formerCustomerWindow === undefined ? undefined : `${inWords(purpose.formerCustomerWindow)} after ${contract}`;
}

/** Recorded before such choices were refused: decisions ignore a restriction or opt-out of what the person cannot refuse. */
function withoutEffectOn(purposeId: PurposeId, catalogue: Catalogue): string | undefined {
  const purpose = catalogue.purposes.get(purposeId);
  return purpose && !subjectHasASay(purpose) ? `recorded for ${purposeId}, but without effect: the person cannot refuse it` : undefined;
}

/** A restriction for every purpose stops only marketing (`restrictionOf`). */
const purposesOnChannelNotMarketing = (channel: Channel, catalogue: Catalogue): PurposeId[] =>
  [...catalogue.purposes.values()].filter((purpose) => purpose.channels.includes(channel) && !isStoppedByGeneralRestriction(purpose, catalogue)).map((purpose) => purpose.id);

const categoriesWithASayUsing = (source: DataSource, catalogue: Catalogue): string[] => [
  ...new Set([...catalogue.purposes.values()].filter((purpose) => purpose.sources.includes(source) && subjectHasASay(purpose)).map((purpose) => purpose.category)),
];

function inWords(duration: Duration): string {
  const [, years, months, days] = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(duration) ?? [];
  const unit = (count: string | undefined, name: string) => (count === undefined ? [] : [`${Number(count)} ${name}${Number(count) === 1 ? '' : 's'}`]);
  return [...unit(years, 'year'), ...unit(months, 'month'), ...unit(days, 'day')].join(' ');
}
