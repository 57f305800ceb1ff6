import { createHmac, randomUUID } from 'node:crypto';
import type { Sealed } from '@consent-ledger/domain';
import { keyIdOf, sealWith, unsealWith } from '../aes-gcm';
import { isSealed, type PersonalDataVault, type ScrubStatus, SubjectKeyDestroyed } from '../personal-data-vault.port';
import { type CachedKey, KeyCache, type KeyCacheOptions } from './key-cache';
import { MasterKeyMismatch, masterKeyId, newDataKey, unwrapDataKey, wrapDataKey } from './key-wrapping';

/** One subject's data key as the key store keeps it: wrapped by the master key, never in clear. */
export interface WrappedKeyRow {
  readonly subjectId: string;
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly masterKeyId: string;
  readonly createdAt: string;
}

/** What a key store keeps for a subject whose key was destroyed: that fact, and no key material. */
export const DESTROYED = 'destroyed';

export type StoredKey = WrappedKeyRow | typeof DESTROYED;

/**
 * Opened with `existingOnly` where no vault was ever opened: no key store there (or one without the
 * master key's fingerprint, which every opened store records at once). Nothing was created.
 */
export class KeyStoreMissing extends Error {
  constructor(readonly where: string) {
    super(`no key store at ${where}`);
    this.name = 'KeyStoreMissing';
  }
}

/** What a durable key store must do; the SQLite and PostgreSQL stores differ only here. */
export interface KeyRows {
  /** Names the storage in error messages. */
  readonly where: string;
  /** The master key id recorded on first use, recording `candidate` when there is none yet. */
  claimMasterKeyId(candidate: string): Promise<string>;
  find(subjectId: string): Promise<StoredKey | undefined>;
  /**
   * Inserts unless the subject has a key or had one destroyed, and returns what is stored (another
   * writer's key on a race).
   */
  insertIfAbsent(row: WrappedKeyRow): Promise<StoredKey>;
  /**
   * Records that the subject's key was destroyed, in its place if it has one, so that no
   * `insertIfAbsent` racing it in another process leaves a key behind, and makes sure the key's
   * bytes no longer sit in the store's files.
   */
  destroy(subjectId: string): Promise<void>;
  /** Deletes whatever is stored for the subject, a key (its bytes scrubbed as by `destroy`) or the record of its destruction. */
  forget(subjectId: string): Promise<void>;
  /** Deletes the record of the subject's destroyed key, never a key; whether there was one. */
  forgetDestroyed(subjectId: string): Promise<boolean>;
  /** Whether every destroyed key's bytes are gone from the store's files (`PersonalDataVault.scrubStatus`). */
  scrubStatus(): Promise<ScrubStatus>;
  close(): Promise<void>;
}

/**
 * Crypto-shredding over a durable key store: a data key per subject, wrapped by the master key,
 * unwrapped keys cached in memory (see `KeyCache`). Opening with another master key than the one
 * that wrapped the stored keys fails, rather than reading every sealed value as erased.
 */
export class EnvelopeVault implements PersonalDataVault {
  private readonly cache: KeyCache;
  private readonly digestKey: Buffer;
  /** Bumped by every destroyKey, so a read racing a destroy never puts the key back in the cache. */
  private readonly destructions = new Map<string, number>();

  private constructor(
    private readonly rows: KeyRows,
    private readonly masterKey: Buffer,
    private readonly masterKeyId: string,
    cache: KeyCacheOptions,
  ) {
    this.cache = new KeyCache(cache);
    this.digestKey = createHmac('sha256', masterKey).update('consent-ledger/keyed-digest/v1').digest();
  }

  keyedDigest(text: string): string {
    return createHmac('sha256', this.digestKey).update(text).digest('hex');
  }

  static async open(rows: KeyRows, masterKey: Buffer, cache: KeyCacheOptions = {}): Promise<EnvelopeVault> {
    const id = masterKeyId(masterKey);
    try {
      if ((await rows.claimMasterKeyId(id)) !== id) throw new MasterKeyMismatch(rows.where);
    } catch (error) {
      await rows.close();
      throw error;
    }
    return new EnvelopeVault(rows, masterKey, id, cache);
  }

  async seal(subjectId: string, plaintext: string): Promise<Sealed> {
    const key = (await this.keyOf(subjectId)) ?? (await this.createKey(subjectId));
    if (key === DESTROYED) throw new SubjectKeyDestroyed(subjectId);
    return sealWith(key.key, key.keyId, plaintext);
  }

  async unseal(subjectId: string, sealed: Sealed): Promise<string | undefined> {
    if (!isSealed(sealed)) throw new TypeError('not a sealed value');
    const key = await this.keyOf(subjectId);
    // A value sealed under a destroyed key stays unreadable even if the subject has a newer key.
    if (!key || key === DESTROYED || key.keyId !== keyIdOf(sealed)) return undefined;
    return unsealWith(key.key, sealed);
  }

  async destroyKey(subjectId: string): Promise<void> {
    this.evict(subjectId);
    await this.rows.destroy(subjectId);
  }

  async forgetSubject(subjectId: string): Promise<void> {
    this.evict(subjectId);
    await this.rows.forget(subjectId);
  }

  /** No key is cached for a destroyed one, and none is deleted here: nothing to evict. */
  forgetDestroyedKey(subjectId: string): Promise<boolean> {
    return this.rows.forgetDestroyed(subjectId);
  }

  async hasKey(subjectId: string): Promise<boolean> {
    const stored = await this.rows.find(subjectId);
    return stored !== undefined && stored !== DESTROYED;
  }

  scrubStatus(): Promise<ScrubStatus> {
    return this.rows.scrubStatus();
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.rows.close();
  }

  private evict(subjectId: string): void {
    this.destructions.set(subjectId, (this.destructions.get(subjectId) ?? 0) + 1);
    this.cache.evict(subjectId);
  }

  private async keyOf(subjectId: string): Promise<CachedKey | typeof DESTROYED | undefined> {
    const cached = this.cache.get(subjectId);
    if (cached) return cached;
    const destructions = this.destructions.get(subjectId);
    const stored = await this.rows.find(subjectId);
    return stored === DESTROYED ? stored : stored && this.remember(stored, destructions);
  }

  private async createKey(subjectId: string): Promise<CachedKey | typeof DESTROYED> {
    const destructions = this.destructions.get(subjectId);
    const keyId = randomUUID();
    const stored = await this.rows.insertIfAbsent({
      subjectId,
      keyId,
      wrappedKey: wrapDataKey(this.masterKey, subjectId, keyId, newDataKey()),
      masterKeyId: this.masterKeyId,
      createdAt: new Date().toISOString(),
    });
    return stored === DESTROYED ? stored : this.remember(stored, destructions);
  }

  private remember(row: WrappedKeyRow, destructionsBefore: number | undefined): CachedKey {
    if (row.masterKeyId !== this.masterKeyId) throw new MasterKeyMismatch(this.rows.where);
    const key = { keyId: row.keyId, key: unwrapDataKey(this.masterKey, row.subjectId, row.keyId, row.wrappedKey) };
    if (this.destructions.get(row.subjectId) === destructionsBefore) this.cache.set(row.subjectId, key);
    return key;
  }
}
