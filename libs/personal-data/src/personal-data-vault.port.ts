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
  /**
   * Forgets that the subject's key was destroyed, when that is all the key store holds for it, and
   * says whether it did: a key held now (the subject back, given a key once its record went) is
   * kept, in the same step, whatever seals race it. For a record a proof-retention run removed
   * before it could `forgetSubject` (it stopped): the record of the erasure went with it.
   */
  forgetDestroyedKey(subjectId: string): Promise<boolean>;
  /** Whether the subject has a key to seal and unseal with: not after it was destroyed. */
  hasKey(subjectId: string): Promise<boolean>;
  /**
   * A digest of text that may hold personal data, to recognise the same text again (a retried
   * request): HMAC-SHA256 under a key derived from the master key, so that nobody holding only the
   * stored digests (a log backup) can test guesses of an erased subject's data against them.
   * Stable across restarts and processes sharing the master key.
   */
  keyedDigest(text: string): string;
  /**
   * Whether the bytes of every key destroyed so far are gone from the key store's own files, or
   * which transactions keep them there for now (PostgreSQL: docs/decisions/0006). A destroyed key
   * is unreadable through the store at once either way; this is about what its files hold.
   */
  scrubStatus(): Promise<ScrubStatus>;
  close(): Promise<void>;
}

/**
 * `done`: no destroyed key's bytes are left in the key store's files. `pending`: the bytes of keys
 * destroyed since `owedSince` may still be there, because each transaction in `heldBy` began before
 * their destruction and may still read them, or holds a lock on the key table that keeps the
 * rewrite out, so the rewrite that removes them waits until it ends (none listed: it ended, and the
 * next try of the scrub removes them). No subject is named.
 */
export type ScrubStatus =
  | { readonly state: 'done' }
  | { readonly state: 'pending'; readonly owedSince: string; readonly heldBy: readonly ScrubHolder[] };

/** What keeps a destroyed key's bytes on disk, as PostgreSQL's own views name it for an operator. */
export type ScrubHolder =
  | {
      /**
       * A session of the key table's database, with a transaction or a statement older than the
       * destruction, or a transaction of a second or more holding a lock on the key table (`pg_stat_activity`, `pg_locks`).
       */
      readonly kind: 'session';
      readonly pid: number;
      readonly applicationName: string;
      readonly backendType: string;
      /** When its transaction began; null when the key store's role may not see it (`pg_read_all_stats` may). */
      readonly transactionStartedAt: string | null;
    }
  | {
      /** A prepared transaction (`pg_prepared_xacts`), which keeps them until it is committed or rolled back. */
      readonly kind: 'prepared-transaction';
      readonly gid: string;
      readonly preparedAt: string;
    }
  | {
      /** A replication slot whose standby asked to keep them (`hot_standby_feedback`, `pg_replication_slots.xmin`). */
      readonly kind: 'replication-slot';
      readonly slotName: string;
    };

/** For stores whose destroys leave nothing behind in their files (SQLite's secure_delete, memory). */
export const SCRUBBED: ScrubStatus = Object.freeze({ state: 'done' });

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
