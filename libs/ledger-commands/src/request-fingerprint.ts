import { canonicalJson } from '@consent-ledger/event-store';
import type { PersonalDataVault } from '@consent-ledger/personal-data';

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
