import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Sealed } from '@consent-ledger/domain';
import { keyIdOf, sealWith, unsealWith } from '../aes-gcm';
import { type PersonalDataVault, SCRUBBED, type ScrubStatus, SubjectKeyDestroyed } from '../personal-data-vault.port';

/** Keys in process memory: for unit tests only (a restart forgets every key). */
export class InMemoryVault implements PersonalDataVault {
  private readonly keys = new Map<string, { id: string; key: Buffer }>();
  private readonly destroyed = new Set<string>();
  private readonly digestKey = randomBytes(32);

  async seal(subjectId: string, plaintext: string): Promise<Sealed> {
    if (this.destroyed.has(subjectId)) throw new SubjectKeyDestroyed(subjectId);
    let entry = this.keys.get(subjectId);
    if (!entry) {
      entry = { id: randomUUID(), key: randomBytes(32) };
      this.keys.set(subjectId, entry);
    }
    return sealWith(entry.key, entry.id, plaintext);
  }

  async unseal(subjectId: string, sealed: Sealed): Promise<string | undefined> {
    const entry = this.keys.get(subjectId);
    if (!entry || entry.id !== keyIdOf(sealed)) return undefined;
    return unsealWith(entry.key, sealed);
  }

  async destroyKey(subjectId: string): Promise<void> {
    this.keys.delete(subjectId);
    this.destroyed.add(subjectId);
  }

  async forgetSubject(subjectId: string): Promise<void> {
    this.keys.delete(subjectId);
    this.destroyed.delete(subjectId);
  }

  async forgetDestroyedKey(subjectId: string): Promise<boolean> {
    return this.destroyed.delete(subjectId);
  }

  async hasKey(subjectId: string): Promise<boolean> {
    return this.keys.has(subjectId);
  }

  keyedDigest(text: string): string {
    return createHmac('sha256', this.digestKey).update(text).digest('hex');
  }

  async scrubStatus(): Promise<ScrubStatus> {
    return SCRUBBED;
  }

  async close(): Promise<void> {}
}
