import type { LedgerCommand } from './commands';

/**
 * Every business rule a command can break, by name. The edge maps them to 422 responses; tests
 * assert the name, never a message.
 */
export const LEDGER_RULES = {
  'subject-erased': 'the subject was erased; only legal obligations, billing records and legal claims remain, and the end of a contract can still be recorded',
  'subject-unknown': 'the ledger holds nothing for this subject (no choice, relationship or erasure), so there is nothing to erase; check the subject id',
  'unknown-purpose': 'the purpose is not in the catalogue',
  'consent-not-applicable':
    'the purpose does not rest on consent, so consent cannot be given or withdrawn for it (processing on legitimate interest is stopped with an Object command for the purpose)',
  'not-applicable-to-brand': 'the purpose does not apply to customers of this brand',
  'notice-version-required': 'a consent must name in capture.noticeVersion the version of the notice the person saw',
  'notice-version-unknown':
    'capture.noticeVersion names no notice the operator published (the catalogue\'s noticeVersion or earlierNoticeVersions, a notice a purpose\'s change replaced, or the notice of a catalogue the ledger has run on)',
  'notice-outdated': 'the person was shown a notice the purpose\'s changed notice replaced; show the current notice and ask again',
  'channel-not-used-by-purpose': 'the purpose does not use this channel',
  'no-channel-chosen': 'a consent limited to channels must name at least one',
  'source-not-used-by-purpose': 'the purpose does not use this data source',
  'validity-ends-before-consent': 'validUntil must be after the moment the consent was given',
  'legal-obligation-cannot-be-objected-to': 'processing required by law cannot be objected to',
  'objection-not-possible': 'this processing cannot be objected to (contract or vital interest)',
  'restriction-not-possible':
    'a channel cannot be restricted for processing the person cannot refuse (contract, legal obligation or vital interest; to stop marketing on it, restrict it without a purpose)',
  'justification-required': 'an objection to this processing needs a justification (a motivated request)',
  'no-objection-pending-review': 'there is no motivated objection to review for this purpose',
  'objection-already-reviewed':
    'the objection was already reviewed with another outcome; a different answer needs a new objection from the person',
  'review-predates-objection': 'the review is dated before the objection it would answer was made',
  'already-a-customer': 'an active customer cannot become a prospect of the same brand',
  'no-relationship-to-end': 'there is no relationship with this brand to end',
  'in-force-at-another-scope':
    'the choice to undo was made for another scope (the whole channel or source, or the purpose group, rather than this purpose, or the reverse); undo it as it was made',
} as const;

export type LedgerRule = keyof typeof LEDGER_RULES;

/** A command the ledger refuses. Nothing is recorded. */
export class LedgerRuleBroken extends Error {
  constructor(
    readonly rule: LedgerRule,
    readonly command: Pick<LedgerCommand, 'type' | 'subjectId'>,
    detail?: string,
  ) {
    super(detail ? `${LEDGER_RULES[rule]}: ${detail}` : LEDGER_RULES[rule]);
    this.name = 'LedgerRuleBroken';
  }
}
