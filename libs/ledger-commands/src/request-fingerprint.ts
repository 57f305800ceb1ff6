import { hash } from 'node:crypto';
import { canonicalJson } from '@consent-ledger/event-store';

/**
 * SHA-256 of the request's JSON with object keys sorted, so a retry that serialises the same body
 * in another key order is still recognised as the same request. The sorting is the hash chain's
 * (`canonicalJson`): for JSON values it gives the bytes this file's own copy gave, so fingerprints
 * recorded before stay valid.
 */
export function requestFingerprint(json: unknown): string {
  return hash('sha256', canonicalJson(json), 'hex');
}
