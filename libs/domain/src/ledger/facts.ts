import type { Catalogue, PurposeDefinition } from '../catalogue/catalogue';
import type { LedgerCommand } from './commands';
import type { Capture } from './events';
import { LedgerRuleBroken } from './rules';

/** What deciding needs besides the ledger: the operator's catalogue, and the notices it ran on before. */
export interface LedgerContext {
  readonly catalogue: Catalogue;
  /**
   * The notice versions the catalogues kept in the log know (see `noticeVersionsOf`), read by the
   * edge: after a move to a new catalogue, late paperwork under the previous notice is still proof.
   */
  readonly noticesInTheLog?: ReadonlySet<string>;
}

/** The part every event copies from its command: who, which brand, and the evidence. */
export function factOf(command: LedgerCommand): { subjectId: LedgerCommand['subjectId']; brand: LedgerCommand['brand']; capture: Capture } {
  const { touchpoint, actor, occurredAt, recordedAt, statedAt, idempotencyKey, noticeVersion, locale, evidenceRef } = command.capture;
  const capture: Capture = {
    touchpoint,
    actor,
    occurredAt,
    recordedAt,
    ...(statedAt !== undefined && { statedAt }),
    idempotencyKey,
    ...(noticeVersion !== undefined && { noticeVersion }),
    ...(locale !== undefined && { locale }),
    ...(evidenceRef !== undefined && { evidenceRef }),
  };
  return { subjectId: command.subjectId, brand: command.brand, capture };
}

export function purposeFor(command: LedgerCommand, purposeId: string, context: LedgerContext): PurposeDefinition {
  const purpose = context.catalogue.purposes.get(purposeId);
  if (!purpose) throw new LedgerRuleBroken('unknown-purpose', command, `"${purposeId}"`);
  return purpose;
}

export const restsOnConsent = (purpose: PurposeDefinition): boolean =>
  purpose.legalBasis === 'consent' || purpose.otherLegalBases.includes('consent');
