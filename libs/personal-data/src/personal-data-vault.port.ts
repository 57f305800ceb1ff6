import type { Sealed } from '@consent-ledger/domain';

/**
 * Crypto-shredding: personal data that must be kept at all (contact details collected with a
 * consent, a call-recording reference, an objection's justification) is encrypted with a key of
 * its subject's own, kept outside the event log. Destroying the key makes every copy unreadable:
 * in the log, in backups, on Kafka. The pseudonymous decision record stays as proof.
 */
export interface PersonalDataVault {
  /**
   * Encrypts with the subject's key, creating the key on first use. Throws `SubjectKeyDestroyed`
   * once the subject's key was destroyed: no new key is made for an erased subject.
   */
  seal(subjectId: string, plaintext: string): Promise<Sealed>;
  /** Decrypts; `undefined` once the subject's key was destroyed. */
  unseal(subjectId: string, sealed: Sealed): Promise<string | undefined>;
  /**
   * Destroys the subject's key for good, and remembers that it did (also for a subject that never
   * had a key): the subject was erased. Idempotent.
   */
  destroyKey(subjectId: string): Promise<void>;
  /**
   * Destroys the subject's key, if any, and forgets the subject, a destroyed key included: for a
   * record removed whole at the end of its proof retention, after which the subject is unknown and
   * may come back. Idempotent.
   */
  forgetSubject(subjectId: string): Promise<void>;
  /** Whether the subject has a key to seal and unseal with: not after it was destroyed. */
  hasKey(subjectId: string): Promise<boolean>;
  /**
   * A digest of text that may hold personal data, to recognise the same text again (a retried
   * request): HMAC-SHA256 under a key derived from the master key, so that nobody holding only the
   * stored digests (a log backup) can test guesses of an erased subject's data against them.
   * Stable across restarts and processes sharing the master key.
   */
  keyedDigest(text: string): string;
  close(): Promise<void>;
}

/** Values sealed by a vault look like `sealed:v1:<key id>:<base64url payload>`. */
export const SEALED_PREFIX = 'sealed:v1:';
export const isSealed = (value: unknown): value is Sealed => typeof value === 'string' && value.startsWith(SEALED_PREFIX);

/**
 * `seal` for a subject whose key was destroyed. Only an erasure destroys a key, so the command that
 * brought the personal data is refused as the domain refuses it: the subject was erased.
 */
export class SubjectKeyDestroyed extends Error {
  constructor(readonly subjectId: string) {
    super(`the personal-data key of subject ${subjectId} was destroyed: nothing more is sealed for it`);
    this.name = 'SubjectKeyDestroyed';
  }
}
