import { type Catalogue, DEFAULT_SEGMENT, toInstant } from '@consent-ledger/domain';
import { canonicalJson } from '@consent-ledger/event-store';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { DEFAULT_ERASURE_BASIS } from './erase-subject/erase-subject.request';
import { type CheckedCommandRequest, DEFAULT_BRAND } from './parse-command-request';

/**
 * Recognises a retried request: its JSON with object keys sorted (so a retry that serialises the
 * same body in another key order is the same request), digested under the vault's key. A plain
 * hash would let anyone holding the log recover an erased subject's contact details by guessing:
 * every other field of the request is in the event in clear, and a phone number has few
 * possibilities. Stored in every event's metadata and in the idempotency records.
 */
export function requestFingerprint(json: unknown, vault: Pick<PersonalDataVault, 'keyedDigest'>): string {
  return vault.keyedDigest(canonicalJson(json));
}

/**
 * Recognises the same statement sent again, however its channel writes it: instants in any offset
 * or precision, the default brand, segment or erasure basis named or not, a consent's channels in
 * any order or left to their default. An idempotency key may be refused for a body written
 * differently (the client changed its request); a statement delivered again by a channel that
 * rebuilds its JSON must not become a new choice.
 */
export function statementFingerprint(
  { type, request }: CheckedCommandRequest,
  { vault, catalogue }: { vault: Pick<PersonalDataVault, 'keyedDigest'>; catalogue: Catalogue },
): string {
  const { capture, brand, ...fields } = request as CheckedCommandRequest['request'] & { validUntil?: string; channels?: string[]; purpose?: string; segment?: string; basis?: string };
  // A consent's channels are a set, and none named means every channel of the purpose (see giveConsent).
  const channels = fields.channels ?? (type === 'GiveConsent' ? catalogue.purposes.get(fields.purpose!)?.channels : undefined);
  return vault.keyedDigest(
    canonicalJson({
      ...fields,
      brand: brand ?? DEFAULT_BRAND,
      // The defaults the ledger fills in, written out or not.
      ...(type === 'StartRelationship' && { segment: fields.segment ?? DEFAULT_SEGMENT }),
      ...(type === 'EraseSubject' && { basis: fields.basis ?? DEFAULT_ERASURE_BASIS }),
      ...(channels !== undefined && { channels: [...new Set(channels)].sort() }),
      // The instants a request may carry: when it was said, and until when a consent holds.
      ...(fields.validUntil !== undefined && { validUntil: toInstant(fields.validUntil) }),
      capture: { ...capture, occurredAt: capture.occurredAt === undefined ? undefined : toInstant(capture.occurredAt) },
    }),
  );
}
