import { type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, PENDING } from './idempotency-records.port';

/** One request's hold on its key: which client, which key, which request. */
export type RequestClaim = Omit<IdempotencyClaim, 'recordedAt'>;

/**
 * A decision's retries on conflicts last 10 s (ADR 0004, Decision 4); a copy still unanswered after
 * this was abandoned. Waited for only while the claim's holder is not known to be gone.
 */
export const COPY_DECIDED_WITHIN_MS = 15_000;
const MAX_ABANDONED_CLAIMS = 10_000;

/**
 * Copies of one request (same client, key and fingerprint) sent to several processes. The first
 * to claim the key decides it; a copy finding that claim still pending waits for its answer
 * instead of deciding again, since it would judge the ledger as it stands a moment later: a
 * refusal or an "already in force" there, kept as the key's answer, beside the events the first
 * copy recorded (found in review, fifteenth session, three API processes under load). Only a
 * claim that can no longer be deciding (its process died, or answered 503 and left it) is decided
 * again, which the log's event ids make harmless (ADR 0004, Decisions 2 and 3).
 */
export class CopiesElsewhere {
  /** Keys whose claim a request of this process left when it failed: no copy is deciding them. */
  private readonly abandoned = new Set<string>();

  constructor(private readonly decidedWithinMs = COPY_DECIDED_WITHIN_MS) {}

  /**
   * The record to act on: `found` itself, or, when it is a copy's claim still pending, that
   * copy's answer once given, or what is found when the copy can no longer be deciding (`claim`
   * takes the key if the copy's claim was released meanwhile). `whileWaiting` is called between
   * looks: a Kafka consumer heartbeats there, or its group would take its partitions away.
   * `answerInLog`, looked at beside the claim, finds the copy's answer where its events already are.
   * `holderGone` tells whether the process that took the claim is known dead: then nothing waits.
   */
  async settled(
    request: RequestClaim,
    found: IdempotencyRecord | undefined,
    claim: () => Promise<IdempotencyRecord | undefined>,
    { whileWaiting = async () => undefined, answerInLog = async () => undefined, holderGone = async () => false }: WaitingForACopy = {},
  ): Promise<IdempotencyRecord | undefined> {
    const fingerprint = request.requestFingerprint;
    const abandonedHere = this.abandoned.delete(keyOf(request));
    if (abandonedHere || !isPendingCopy(found, fingerprint)) return found;
    // The claim's instant is the other process's clock: a clock running ahead must not make this
    // wait longer. Looked at again each time: a process whose request failed dates its claim back.
    const firstLook = Date.now();
    const until = (record: IdempotencyRecord) => Math.min(new Date(record.recordedAt).getTime(), firstLook) + this.decidedWithinMs;
    let record = found;
    for (let pause = 5; isPendingCopy(record, fingerprint) && Date.now() < until(record!); pause = Math.min(pause * 2, 100)) {
      // A process that died before appending leaves a claim nobody will answer: waiting out the
      // 15 s for it held its retry that long (found in review). Liveness only shortens the wait: a
      // holder that seems alive (a host gone without closing its connections) is waited for as before.
      if (record!.holder !== undefined && (await holderGone(record!))) {
        // Looked at again after the holder was found gone, so an answer it kept before dying is
        // given rather than decided again; a gone holder keeps nothing more.
        const again = (await answerInLog()) ?? (await claim());
        if (isPendingCopy(again, fingerprint) && again!.holder === record!.holder) return again;
        record = again;
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(until(record!) - Date.now(), 0))));
      await whileWaiting();
      // A copy answers before its record is kept, and one whose process died after appending never
      // keeps it: its events in the log are its answer (found in review: such a copy's retry waited
      // out the 15 s for a process that was gone).
      record = (await answerInLog()) ?? (await claim());
    }
    return record;
  }

  /**
   * This process's request failed after claiming its key. It keeps the claim, so another request
   * under the key is still refused, but its retry here is decided at once, and the claim is dated
   * back past the time a copy can be deciding, so a retry sent to another process is decided at
   * once there too instead of waiting for nobody. The write is best effort and returned for the
   * caller to track, not to await on the request's path: storage that is down would hold the 503
   * for its connection timeout. When the records cannot be written, the wait is what is left.
   */
  leave(records: Pick<IdempotencyRecords, 'save'>, request: RequestClaim, now: string): Promise<void> {
    this.abandoned.add(keyOf(request));
    if (this.abandoned.size > MAX_ABANDONED_CLAIMS) this.abandoned.delete(this.abandoned.values().next().value!);
    return records.save(claimLeft(request, now)).catch(() => undefined);
  }
}

/** How a request waits for a copy decided elsewhere (see `settled`). */
export interface WaitingForACopy {
  readonly whileWaiting?: () => Promise<void>;
  readonly answerInLog?: () => Promise<IdempotencyRecord | undefined>;
  readonly holderGone?: (claim: IdempotencyRecord) => Promise<boolean>;
}

const keyOf = ({ client, idempotencyKey }: RequestClaim): string => JSON.stringify([client, idempotencyKey]);

const isPendingCopy = (record: IdempotencyRecord | undefined, fingerprint: string): boolean =>
  record?.status === PENDING && record.requestFingerprint === fingerprint;

/** A request's own claim as `leave` saves it in place of the claim (a save replaces only its own request's pending claim). */
const claimLeft = (claim: RequestClaim, now: string): IdempotencyRecord => ({
  client: claim.client,
  idempotencyKey: claim.idempotencyKey,
  requestFingerprint: claim.requestFingerprint,
  status: PENDING,
  body: '',
  recordedAt: new Date(Date.parse(now) - COPY_DECIDED_WITHIN_MS).toISOString(),
});
