import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { type PersonalDataVault, SubjectKeyDestroyed } from './personal-data-vault.port';
import { MasterKeyMismatch } from './envelope/key-wrapping';

/**
 * What every vault must do, written against the port only. Each adapter's spec calls
 * `runPersonalDataVaultContract` with a way to open a fresh vault on fresh storage.
 */
export interface VaultUnderTest {
  readonly vault: PersonalDataVault;
  /** Another instance on the same storage (another process, or this one after a restart), with the given master key. */
  reopen?(masterKey: Buffer): Promise<PersonalDataVault>;
  readonly masterKey?: Buffer;
  /** Closes every instance it opened and deletes the storage. */
  dispose(): Promise<void>;
}

export interface VaultContractOptions {
  open(): Promise<VaultUnderTest>;
}

export function runPersonalDataVaultContract({ open }: VaultContractOptions): void {
  let underTest: VaultUnderTest;
  let vault: PersonalDataVault;
  const subject = () => `subject-${randomBytes(4).toString('hex')}`;

  beforeEach(async () => {
    underTest = await open();
    vault = underTest.vault;
  });
  afterEach(() => underTest.dispose());

  describe('sealing', () => {
    it('gives back the personal data it sealed', async () => {
      const jane = subject();
      const sealed = await vault.seal(jane, 'Jane Doe <jane@example.org>');
      expect(await vault.unseal(jane, sealed)).toBe('Jane Doe <jane@example.org>');
    });

    it('never shows the plaintext in the sealed value, nor seals the same text twice the same way', async () => {
      const jane = subject();
      const first = await vault.seal(jane, '+32 470 12 34 56');
      const second = await vault.seal(jane, '+32 470 12 34 56');
      // Fragments with a space: a key id (a UUID) or base64url ciphertext can hold "470" by chance
      // (one CI run in a hundred or so), never a space.
      expect(first).not.toContain('470 12');
      expect(first).not.toContain('34 56');
      expect(first).not.toBe(second);
    });

    it('keeps one key per subject, so another subject cannot read the value', async () => {
      const sealed = await vault.seal(subject(), 'jane@example.org');
      expect(await vault.unseal(subject(), sealed)).toBeUndefined();
    });

    it('knows which subjects have a key', async () => {
      const jane = subject();
      expect(await vault.hasKey(jane)).toBe(false);
      await vault.seal(jane, 'x');
      expect(await vault.hasKey(jane)).toBe(true);
    });
  });

  describe('destroying a key', () => {
    it('makes everything sealed for the subject unreadable', async () => {
      const jane = subject();
      const email = await vault.seal(jane, 'jane@example.org');
      const recording = await vault.seal(jane, 'call-recording-2024-05-01-0042');
      await vault.destroyKey(jane);
      expect(await vault.unseal(jane, email)).toBeUndefined();
      expect(await vault.unseal(jane, recording)).toBeUndefined();
      expect(await vault.hasKey(jane)).toBe(false);
    });

    it('leaves other subjects readable', async () => {
      const [jane, john] = [subject(), subject()];
      await vault.seal(jane, 'jane@example.org');
      const johnsEmail = await vault.seal(john, 'john@example.org');
      await vault.destroyKey(jane);
      expect(await vault.unseal(john, johnsEmail)).toBe('john@example.org');
    });

    it('can be repeated, and destroying a key that never existed is no error', async () => {
      const jane = subject();
      await vault.seal(jane, 'x');
      await vault.destroyKey(jane);
      await expect(vault.destroyKey(jane)).resolves.toBeUndefined();
      await expect(vault.destroyKey(subject())).resolves.toBeUndefined();
    });

    // Found across sessions: a command refused for an erased subject had its personal data sealed
    // first, which made the erased subject a new key.
    it('makes the subject no new key: sealing for it is refused, and it has no key', async () => {
      const jane = subject();
      await vault.seal(jane, 'jane@example.org');
      await vault.destroyKey(jane);
      await expect(vault.seal(jane, 'jane.new@example.org')).rejects.toBeInstanceOf(SubjectKeyDestroyed);
      expect(await vault.hasKey(jane)).toBe(false);
    });

    it('makes no key for a subject that never had one either', async () => {
      const jane = subject();
      await vault.destroyKey(jane);
      await expect(vault.seal(jane, 'jane@example.org')).rejects.toBeInstanceOf(SubjectKeyDestroyed);
      expect(await vault.hasKey(jane)).toBe(false);
    });
  });

  describe('forgetting a subject', () => {
    it('makes everything sealed for the subject unreadable', async () => {
      const jane = subject();
      const email = await vault.seal(jane, 'jane@example.org');
      await vault.forgetSubject(jane);
      expect(await vault.unseal(jane, email)).toBeUndefined();
      expect(await vault.hasKey(jane)).toBe(false);
    });

    it('seals for the subject again under a new key, which cannot open what was sealed before', async () => {
      const jane = subject();
      const before = await vault.seal(jane, 'jane@example.org');
      await vault.forgetSubject(jane);
      const after = await vault.seal(jane, 'jane.new@example.org');
      expect(await vault.unseal(jane, before)).toBeUndefined();
      expect(await vault.unseal(jane, after)).toBe('jane.new@example.org');
    });

    it('is no error for a subject it never knew', async () => {
      await expect(vault.forgetSubject(subject())).resolves.toBeUndefined();
    });

    it('lets a subject whose key was destroyed have a new key, which cannot open what was sealed before', async () => {
      const jane = subject();
      const before = await vault.seal(jane, 'jane@example.org');
      await vault.destroyKey(jane);
      await vault.forgetSubject(jane);
      const after = await vault.seal(jane, 'jane.new@example.org');
      expect(await vault.unseal(jane, before)).toBeUndefined();
      expect(await vault.unseal(jane, after)).toBe('jane.new@example.org');
    });
  });

  // For a subject a proof-retention run removed and stopped before forgetting: the next run may not
  // know whether the key store holds the old erasure's record or a key the subject made since.
  describe('forgetting only that a key was destroyed', () => {
    it('lets a subject whose key was destroyed have a new key', async () => {
      const jane = subject();
      const before = await vault.seal(jane, 'jane@example.org');
      await vault.destroyKey(jane);

      expect(await vault.forgetDestroyedKey(jane)).toBe(true);

      const after = await vault.seal(jane, 'jane.new@example.org');
      expect(await vault.unseal(jane, before)).toBeUndefined();
      expect(await vault.unseal(jane, after)).toBe('jane.new@example.org');
    });

    it("keeps a key the subject holds, and what it sealed readable", async () => {
      const jane = subject();
      const sealed = await vault.seal(jane, 'jane@example.org');

      expect(await vault.forgetDestroyedKey(jane)).toBe(false);

      expect(await vault.unseal(jane, sealed)).toBe('jane@example.org');
      expect(await vault.hasKey(jane)).toBe(true);
    });

    it('is no error for a subject it never knew', async () => {
      await expect(vault.forgetDestroyedKey(subject())).resolves.toBe(false);
    });
  });
}

/** The part only a durable vault can show: keys outlive the process, and only the right master key opens them. */
export function runDurableVaultContract({ open }: VaultContractOptions): void {
  let underTest: VaultUnderTest;
  const subject = () => `subject-${randomBytes(4).toString('hex')}`;

  beforeEach(async () => {
    underTest = await open();
  });
  afterEach(() => underTest.dispose());

  it('keeps keys across a restart', async () => {
    const jane = subject();
    const sealed = await underTest.vault.seal(jane, 'jane@example.org');
    await underTest.vault.close();
    const reopened = await underTest.reopen!(underTest.masterKey!);
    expect(await reopened.unseal(jane, sealed)).toBe('jane@example.org');
  });

  it('refuses to open with another master key, rather than read every value as erased', async () => {
    await underTest.vault.seal(subject(), 'jane@example.org');
    await expect(underTest.reopen!(randomBytes(32))).rejects.toBeInstanceOf(MasterKeyMismatch);
  });

  it('digests text the same way after a restart, and not as a plain hash would', async () => {
    const digest = underTest.vault.keyedDigest('{"phone":"+32470123456"}');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).not.toBe(createHash('sha256').update('{"phone":"+32470123456"}').digest('hex'));
    expect(underTest.vault.keyedDigest('{"phone":"+32470123457"}')).not.toBe(digest);
    const reopened = await underTest.reopen!(underTest.masterKey!);
    expect(reopened.keyedDigest('{"phone":"+32470123456"}')).toBe(digest);
  });

  it('makes a key destroyed by one process unreadable to another that opens the store afterwards', async () => {
    const jane = subject();
    const sealed = await underTest.vault.seal(jane, 'jane@example.org');
    await underTest.vault.destroyKey(jane);
    const other = await underTest.reopen!(underTest.masterKey!);
    expect(await other.unseal(jane, sealed)).toBeUndefined();
  });

  it('refuses to seal for a subject whose key another process destroyed, also after a restart', async () => {
    const jane = subject();
    const other = await underTest.reopen!(underTest.masterKey!);
    await underTest.vault.seal(jane, 'jane@example.org');
    await other.destroyKey(jane);
    await underTest.vault.close();
    const restarted = await underTest.reopen!(underTest.masterKey!);
    await expect(restarted.seal(jane, 'jane@example.org')).rejects.toBeInstanceOf(SubjectKeyDestroyed);
    expect(await restarted.hasKey(jane)).toBe(false);
  });

  it('leaves no key behind when a seal races the destruction in another process', async () => {
    const subjects = Array.from({ length: 40 }, subject);
    const other = await underTest.reopen!(underTest.masterKey!);
    await Promise.allSettled(subjects.flatMap((each) => [underTest.vault.seal(each, 'first contact'), other.destroyKey(each)]));
    const keptKeys = await Promise.all(subjects.map((each) => underTest.vault.hasKey(each)));
    expect(subjects.filter((_, index) => keptKeys[index])).toEqual([]);
  });

  it('agrees on one key when two processes seal for a new subject at once', async () => {
    const jane = subject();
    const other = await underTest.reopen!(underTest.masterKey!);
    const [fromFirst, fromSecond] = await Promise.all([underTest.vault.seal(jane, 'first'), other.seal(jane, 'second')]);
    expect(await other.unseal(jane, fromFirst)).toBe('first');
    expect(await underTest.vault.unseal(jane, fromSecond)).toBe('second');
  });
}
