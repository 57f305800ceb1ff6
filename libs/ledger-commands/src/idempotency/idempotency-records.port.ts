/**
 * The answer given to a request sent with an `Idempotency-Key`, kept so that a retry gets the same
 * answer and records nothing new. Scoped by client: two clients may use the same key.
 */
export interface IdempotencyRecord {
  readonly client: string;
  readonly idempotencyKey: string;
  /** `requestFingerprint` of the first request; the same key with another request is refused. */
  readonly requestFingerprint: string;
  readonly status: number;
  /** The response body as JSON text. */
  readonly body: string;
  readonly recordedAt: string;
}

export interface IdempotencyRecords {
  find(client: string, idempotencyKey: string): Promise<IdempotencyRecord | undefined>;
  /** Stores the record unless one exists for the same client and key: the first answer stays. */
  save(record: IdempotencyRecord): Promise<void>;
  close(): Promise<void>;
}
