import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption: a subject's data key is stored only wrapped (AES-256-GCM) by the master
 * key, bound to the subject and key id as associated data so a wrapped key copied onto another
 * subject's row fails to unwrap.
 */
export const DATA_KEY_BYTES = 32;

export class MasterKeyMismatch extends Error {
  constructor(where: string) {
    super(`the master key does not match the one that wrapped the keys in ${where}; refusing to seal or unseal with it`);
    this.name = 'MasterKeyMismatch';
  }
}

/** A short public fingerprint of the master key, stored next to what it wraps. Reveals nothing about the key. */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('consent-ledger/master-key-id/v1').digest('hex').slice(0, 16);
}

export const newDataKey = (): Buffer => randomBytes(DATA_KEY_BYTES);

export function wrapDataKey(masterKey: Buffer, subjectId: string, keyId: string, dataKey: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce);
  cipher.setAAD(associatedData(subjectId, keyId));
  return Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
}

export function unwrapDataKey(masterKey: Buffer, subjectId: string, keyId: string, wrapped: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', masterKey, wrapped.subarray(0, 12));
  decipher.setAAD(associatedData(subjectId, keyId));
  decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
  return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
}

const associatedData = (subjectId: string, keyId: string) => Buffer.from(`${subjectId}\u0000${keyId}`, 'utf8');
