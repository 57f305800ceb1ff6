/**
 * The answer given to a request sent with an `Idempotency-Key`, kept so that a retry gets the same
 * answer and records nothing new. Scoped by client: two clients may use the same key.
 */
export interface IdempotencyRecord {
  readonly client: string;
  readonly idempotencyKey: string;
  /** `requestFingerprint` of the first request; the same key with another request is refused. */
  readonly requestFingerprint: string;
  /** The answer's HTTP status, or `PENDING` while the request that took the key is being decided. */
  readonly status: number;
  /** The response body as JSON text (empty while pending). */
  readonly body: string;
  /** When the key was claimed or answered: an instant in the normalised form of `toInstant`. */
  readonly recordedAt: string;
  /**
   * On a pending claim: the process that took it, as the records name it (a random token per
   * process), so that a copy waiting for it can tell a dead process from a slow one. Absent on
   * claims taken before holders were recorded, and on claims taken while the process could not
   * show it was alive (ADR 0004, Decision 3).
   */
  readonly holder?: string;
}

/** The status of a key taken by a request still being decided, or whose process died before answering. */
export const PENDING = 0;

export type IdempotencyClaim = Pick<IdempotencyRecord, 'client' | 'idempotencyKey' | 'requestFingerprint' | 'recordedAt'>;

/** An API key, by its SHA-256, and the client name a deployment gives it. */
export interface KeyOfClient {
  readonly keySha256: string;
  readonly client: string;
}

/** A key this process names after one client while the records know it as another's. */
export interface ClientRenamed extends KeyOfClient {
  readonly knownAs: string;
}

export interface IdempotencyRecords {
  /**
   * Takes the key for a request about to be decided, unless a request took it first: then that
   * request's record, an answer or `PENDING`. Taking and looking up are one step, so two processes
   * given one key at the same moment cannot both find it free.
   */
  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined>;
  /** Keeps the answer in place of the request's own claim, or as the key's first record; never over another answer. */
  save(record: IdempotencyRecord): Promise<void>;
  /**
   * Gives up a claim that turned out not to be the key's first use (the log remembers the key for
   * another request, its record having expired): the claim must not keep turning that request's
   * own retries away. Only this request's pending claim goes.
   */
  release(claim: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void>;
  /**
   * True when the process that took this pending claim is known to be gone (it died, or closed
   * its records), so no copy can still be deciding it. False while it lives, when its liveness
   * cannot be told (no holder recorded), and for a claim of this process.
   */
  holderGone(record: IdempotencyRecord): Promise<boolean>;
  /**
   * Forgets at most `limit` records (answers, pending claims, first arrivals alike) recorded
   * before `instant`, and says how many: fewer than `limit` means none is left. The limit keeps
   * each step short, so that expiry never holds long locks or one huge transaction.
   */
  forgetRecordedBefore(instant: string, limit: number): Promise<number>;
  /**
   * Remembers which client each key answers as, the first time a process names it, and returns the
   * keys named here after another client than the one remembered. Records are kept per client: a
   * key renamed on one process (a rolling change of CONSENT_API_KEYS) would have its requests'
   * retries recorded again there, under the other name.
   */
  rememberClientsOfKeys(keys: readonly KeyOfClient[]): Promise<ClientRenamed[]>;
  close(): Promise<void>;
}

/** The keys named after another client than `remembered` (key digest → client) says. */
export function renamedKeys(keys: readonly KeyOfClient[], remembered: ReadonlyMap<string, string>): ClientRenamed[] {
  return keys.flatMap((key) => {
    const knownAs = remembered.get(key.keySha256);
    return knownAs !== undefined && knownAs !== key.client ? [{ ...key, knownAs }] : [];
  });
}
