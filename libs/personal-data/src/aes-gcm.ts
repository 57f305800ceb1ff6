import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Sealed } from '@consent-ledger/domain';
import { SEALED_PREFIX } from './personal-data-vault.port';

/** AES-256-GCM: a fresh 96-bit nonce per value; the key id is bound as associated data. */
export function sealWith(key: Buffer, keyId: string, plaintext: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(keyId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const payload = Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  return `${SEALED_PREFIX}${keyId}:${payload}` as Sealed;
}

export function keyIdOf(sealed: Sealed): string {
  return sealed.slice(SEALED_PREFIX.length).split(':')[0];
}

export function unsealWith(key: Buffer, sealed: Sealed): string {
  const rest = sealed.slice(SEALED_PREFIX.length);
  const separator = rest.indexOf(':');
  const keyId = rest.slice(0, separator);
  const payload = Buffer.from(rest.slice(separator + 1), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(0, 12));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(payload.subarray(payload.length - 16));
  return Buffer.concat([decipher.update(payload.subarray(12, payload.length - 16)), decipher.final()]).toString('utf8');
}
