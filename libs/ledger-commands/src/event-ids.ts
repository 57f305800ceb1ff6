import { hash as digestOf } from 'node:crypto';

/** Namespace of Consent Ledger event ids (RFC 9562 name-based UUIDs, version 5). */
const EVENT_ID_NAMESPACE = Buffer.from('6f1c1d1e7a6b4c1f9b7e2d4a5c3b1a09', 'hex');

export interface CommandOrigin {
  /** The API client or Kafka producer that sent the command. */
  readonly client: string;
  readonly idempotencyKey: string;
}

/**
 * The id of the `index`-th event a command appends. It depends only on who sent the command, its
 * idempotency key and the subject, so the same command retried after a crash (between the append
 * and the stored response) produces the same ids and the store recognises the append as done.
 */
export function eventIdFor({ client, idempotencyKey }: CommandOrigin, subjectId: string, index: number): string {
  return nameBasedUuid([client, idempotencyKey, subjectId, index]);
}

/**
 * A UUID that depends only on `parts`, in the namespace of Consent Ledger event ids. Other callers
 * give parts of another shape (a leading tag) so their ids never meet a command's.
 */
export function nameBasedUuid(parts: readonly unknown[]): string {
  const name = Buffer.from(JSON.stringify(parts));
  const hash = digestOf('sha1', Buffer.concat([EVENT_ID_NAMESPACE, name]), 'buffer');
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
