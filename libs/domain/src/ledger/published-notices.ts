import { noticeVersionsOf } from '../catalogue/catalogue';
import type { LedgerCommand } from './commands';
import type { LedgerContext } from './facts';
import { LedgerRuleBroken } from './rules';

/**
 * The log is the proof of which notice a person was shown: a proof citing a notice the operator
 * never published is worthless, and a channel sending a mistyped version would go unnoticed for
 * years. A command that names no notice is left to its own rules (a consent must name one).
 */
export function refuseUnpublishedNotice(command: LedgerCommand, context: LedgerContext): void {
  const notice = command.capture.noticeVersion;
  if (!notice || isPublishedNotice(notice, context)) return;
  const known = [...new Set([...noticeVersionsOf(context.catalogue.definition), ...(context.noticesInTheLog ?? [])])].sort();
  throw new LedgerRuleBroken('notice-version-unknown', command, `published notices are ${known.join(', ')}`);
}

function isPublishedNotice(notice: string, { catalogue, noticesInTheLog }: LedgerContext): boolean {
  return noticeVersionsOf(catalogue.definition).has(notice) || (noticesInTheLog?.has(notice) ?? false);
}
