import type { RecordedLedgerEvent } from '../ledger/events';
import type { Catalogue } from './catalogue';

/**
 * Whose wording a receipt quotes: the catalogue the choice was decided under when it is of the
 * notice version the person was shown, else the latest published for that notice, else (a choice
 * recorded before catalogues were kept in the log, naming no notice we hold) today's.
 */
export const TERMS_FROM = ['recorded-catalogue', 'same-notice-catalogue', 'current-catalogue'] as const;
export type TermsFrom = (typeof TERMS_FROM)[number];

export interface CatalogueTerms {
  readonly catalogue: Catalogue;
  readonly from: TermsFrom;
}

/**
 * Every catalogue the service has decided under, as kept in the log, with the one in force. A
 * consent given in 2024 is proven with the purpose as it was described to the person in 2024, not
 * as a later statement rewords it.
 */
export class PublishedCatalogues {
  private readonly byReference = new Map<string, Catalogue>();
  private readonly latestByNotice = new Map<string, Catalogue>();

  /** `published` in the order they were published: a later one for the same notice wins. */
  constructor(
    readonly current: Catalogue,
    published: readonly Catalogue[] = [],
  ) {
    for (const catalogue of [...published, current]) {
      if (catalogue.reference !== undefined) this.byReference.set(catalogue.reference, catalogue);
    }
    for (const catalogue of published) this.latestByNotice.set(catalogue.definition.noticeVersion, catalogue);
    // The catalogue in force is the latest reading of its own notice.
    this.latestByNotice.set(current.definition.noticeVersion, current);
  }

  termsOf(event: RecordedLedgerEvent): CatalogueTerms {
    const recorded = event.data.capture.catalogue;
    const decidedUnder = recorded === undefined ? undefined : this.byReference.get(recorded);
    const notice = noticeVersionOf(event);
    const sameNotice = notice === undefined ? undefined : this.latestByNotice.get(notice);
    // Paperwork signed under the previous notice and keyed in after the move to a new catalogue is
    // decided under the new one, but the person read the old words: quoting the new ones would
    // prove agreement to a recipient or use they were never told of.
    const shownAnotherNotice = decidedUnder !== undefined && sameNotice !== undefined && decidedUnder.definition.noticeVersion !== notice;
    if (decidedUnder && !shownAnotherNotice) return { catalogue: decidedUnder, from: 'recorded-catalogue' };
    if (sameNotice) return { catalogue: sameNotice, from: 'same-notice-catalogue' };
    return { catalogue: this.current, from: 'current-catalogue' };
  }
}

function noticeVersionOf(event: RecordedLedgerEvent): string | undefined {
  return (event.type === 'ConsentGiven' ? event.data.noticeVersion : undefined) ?? event.data.capture.noticeVersion;
}
