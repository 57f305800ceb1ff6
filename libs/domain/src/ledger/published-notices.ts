import { noticeVersionsOf } from '../catalogue/catalogue';
import type { LedgerCommand } from './commands';
import type { LedgerContext } from './facts';
import { LedgerRuleBroken } from './rules';

/**
 * The log is the proof of which notice a person was shown when they consented: a proof citing a
 * notice the operator never published is worthless, and a channel sending a mistyped version would
 * go unnoticed for years. Only consents: a withdrawal, an objection or any other choice holds
 * whatever notice its channel cites, since turning the person's word against processing away for
 * the channel's typo would leave the processing going on (withdrawing must be as easy as
 * consenting). A consent that names no notice is left to its own rule (it must name one).
 */
export function refuseUnpublishedNotice(command: LedgerCommand, context: LedgerContext): void {
  if (command.type !== 'GiveConsent') return;
  const notice = command.capture.noticeVersion;
  if (!notice || isPublishedNotice(notice, context)) return;
  const known = [...new Set([...noticeVersionsOf(context.catalogue.definition), ...(context.noticesInTheLog ?? [])])].sort();
  throw new LedgerRuleBroken('notice-version-unknown', command, `published notices are ${known.join(', ')}`);
}

function isPublishedNotice(notice: string, { catalogue, noticesInTheLog }: LedgerContext): boolean {
  return noticeVersionsOf(catalogue.definition).has(notice) || (noticesInTheLog?.has(notice) ?? false);
}
