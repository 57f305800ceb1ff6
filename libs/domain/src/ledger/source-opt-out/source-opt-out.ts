import type { DataSource, PurposeId } from '../../vocabulary';
import type { OptInSource, OptOutSource } from '../commands';
import type { SourceOptedIn, SourceOptedOut } from '../events';
import { factOf, type LedgerContext, purposeFor } from '../facts';
import { type Ledger, otherScopesOn, restatesStanding, sourceScope } from '../ledger';
import { LedgerRuleBroken } from '../rules';
import { assertRecordableAfterErasure } from '../erasure/after-erasure';

export function optOutSource(command: OptOutSource, ledger: Ledger, context: LedgerContext): SourceOptedOut[] {
  const { source, purpose } = scopeOf(command, ledger, context);
  const standing = ledger.sourceOptOuts.get(sourceScope(source, purpose));
  if (standing?.on && restatesStanding(command.capture, standing.stamp)) return [];
  return [{ type: 'SourceOptedOut', data: { ...factOf(command), source, ...(purpose !== undefined && { purpose }) } }];
}

export function optInSource(command: OptInSource, ledger: Ledger, context: LedgerContext): SourceOptedIn[] {
  const { source, purpose } = scopeOf(command, ledger, context);
  const standing = ledger.sourceOptOuts.get(sourceScope(source, purpose));
  if (!standing?.on) {
    // As for channels: an opt-out of another scope would still keep the source out of use.
    const elsewhere = otherScopesOn(ledger.sourceOptOuts, source, purpose);
    if (elsewhere.length > 0) throw new LedgerRuleBroken('in-force-at-another-scope', command, `${source} is opted out of for ${elsewhere.join(', ')}`);
    if (restatesStanding(command.capture, standing?.stamp)) return [];
  }
  return [{ type: 'SourceOptedIn', data: { ...factOf(command), source, ...(purpose !== undefined && { purpose }) } }];
}

function scopeOf(command: OptOutSource | OptInSource, ledger: Ledger, context: LedgerContext): { source: DataSource; purpose?: PurposeId } {
  assertRecordableAfterErasure(ledger, command);
  const { source, purpose: purposeId } = command.data;
  if (purposeId === undefined) return { source };
  const purpose = purposeFor(command, purposeId, context);
  if (!purpose.sources.includes(source)) throw new LedgerRuleBroken('source-not-used-by-purpose', command, `${purpose.id} does not use ${source}`);
  return { source, purpose: purpose.id };
}
