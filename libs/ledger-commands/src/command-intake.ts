import { randomUUID } from 'node:crypto';
import { type Catalogue, type Instant, type LedgerCommand, LedgerRuleBroken, type SubjectId } from '@consent-ledger/domain';
import { type PersonalDataVault, SubjectKeyDestroyed } from '@consent-ledger/personal-data';
import { commandFailureOf, type CommandErrorBody } from './command-failures';
import { IdempotencyKeyReused } from './idempotency/idempotency-key-reused';
import { CopiesElsewhere } from './idempotency/copies-elsewhere';
import { type IdempotencyRecord, type IdempotencyRecords, PENDING } from './idempotency/idempotency-records.port';
import type { HandledCommand, LedgerStreams } from './ledger-streams';
import { type CheckedCommandRequest, checkCommandRequest, type CommandBuildContext, toLedgerCommand } from './parse-command-request';
import { PerKeyQueue } from './per-key-queue';
import { requestFingerprint, statementFingerprint } from './request-fingerprint';
import type { Validated } from './request-validation';

/** What a recorded command answers: 201 with new events, 200 when already in force, 409/422 when refused. */
export interface CommandOutcome {
  readonly status: 200 | 201 | 409 | 422;
  readonly body: HandledCommand | CommandErrorBody;
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean;
}

export interface CommandSubmission {
  /** The API client or Kafka producer: idempotency keys are scoped by it. */
  readonly client: string;
  /** Absent: the command gets a fresh key, and a retry of it is a new command. */
  readonly idempotencyKey?: string;
  /** `fingerprintOf(json)` of the request as received. */
  readonly requestFingerprint: string;
}

export interface ExecutionOptions {
  /** Called now and then while a copy of the request decided in another process is awaited (a Kafka consumer's heartbeat). */
  readonly whileWaiting?: () => Promise<void>;
}

export interface CommandIntakeDependencies {
  readonly catalogue: Catalogue;
  readonly vault: PersonalDataVault;
  readonly idempotencyRecords: IdempotencyRecords;
  readonly ledgerStreams: LedgerStreams;
  readonly now: () => Instant;
  /** Told when an answer could not be kept (default: console.warn). */
  readonly log?: { warn(message: string): void };
}

/**
 * The way into the ledger for every transport (HTTP and the Kafka command topic): check the
 * request, answer a retried key from its record, seal personal data, decide and append, keep the
 * answer. Storage being unavailable is thrown (nothing was recorded, the caller may retry).
 */
export class CommandIntake {
  private readonly keys = new PerKeyQueue();
  private readonly copies = new CopiesElsewhere();
  private readonly beingKept = new Set<Promise<void>>();

  constructor(private readonly dependencies: CommandIntakeDependencies) {}

  /** Resolves once every answer given so far is kept (or could not be): wait for it before closing the records. */
  async whenAnswersKept(): Promise<void> {
    while (this.beingKept.size > 0) await Promise.all([...this.beingKept]);
  }

  /** What tells a retry of this request from another request under the same key (see `requestFingerprint`). */
  fingerprintOf(json: unknown): string {
    return requestFingerprint(json, this.dependencies.vault);
  }

  /**
   * The first answer to a command that recorded events under `submission`'s client and key, found
   * in the subject's log (no record is claimed or kept): for a transport whose clients were once
   * named otherwise, so that a retry sent across that change is still answered as a retry. Another
   * request under that name and key is no retry of it, and finds nothing.
   */
  async recordedAnswer(checked: CheckedCommandRequest, submission: Required<CommandSubmission>): Promise<CommandOutcome | undefined> {
    const earlier = await this.earlierAnswerOfThisRequest(checked, submission);
    return earlier && { status: 201, body: earlier, replayed: true };
  }

  /** The log's answer to this very request; none when the log holds the key for another request. */
  private async earlierAnswerOfThisRequest(
    checked: CheckedCommandRequest,
    submission: Required<CommandSubmission>,
    options?: { asStoredNow?: boolean },
  ): Promise<HandledCommand | undefined> {
    try {
      return await this.dependencies.ledgerStreams.earlierAnswer(checked.request.subjectId, submission, options);
    } catch (error) {
      if (error instanceof IdempotencyKeyReused) return undefined;
      throw error;
    }
  }

  check(json: unknown): Validated<CheckedCommandRequest> {
    return checkCommandRequest(json, { catalogue: this.dependencies.catalogue, now: this.dependencies.now() });
  }

  execute(checked: CheckedCommandRequest, submission: CommandSubmission, options: ExecutionOptions = {}): Promise<CommandOutcome> {
    const { client, idempotencyKey } = submission;
    if (idempotencyKey === undefined) return this.record(checked, { ...submission, idempotencyKey: randomUUID() }, false).then(({ outcome }) => outcome);
    // Requests with one key run one after another, so a second copy in flight waits and gets the
    // first answer; the next one starts once the answer is kept, though the caller has it earlier.
    return new Promise((answer, fail) => {
      this.keys
        .run(JSON.stringify([client, idempotencyKey]), async () => {
          const { outcome, kept } = await this.executeOnce(checked, { ...submission, idempotencyKey }, options);
          answer(outcome);
          await kept;
        })
        .catch(fail);
    });
  }

  private async executeOnce(checked: CheckedCommandRequest, submission: Required<CommandSubmission>, options: ExecutionOptions): Promise<Answer> {
    const claim = () =>
      this.dependencies.idempotencyRecords.claim({
        client: submission.client,
        idempotencyKey: submission.idempotencyKey,
        requestFingerprint: submission.requestFingerprint,
        recordedAt: this.dependencies.now(),
      });
    // The subject's stream is read while the key is claimed: two round trips in the time of one.
    const claimed = claim();
    const [found] = await Promise.all([claimed, this.dependencies.ledgerStreams.prefetch(checked.request.subjectId)]).catch(async (error: unknown) => {
      // The key may be this request's now, though the read failed: its retry must not wait for it
      // as for a copy being decided.
      if ((await claimed.catch(() => 'not claimed')) === undefined) this.leaveClaim(submission);
      throw error;
    });
    const earlier = await this.copies.settled(submission, found, claim, {
      whileWaiting: options.whileWaiting,
      answerInLog: () => this.answerInLog(checked, submission),
      holderGone: (pending) => this.dependencies.idempotencyRecords.holderGone(pending),
    });
    if (earlier) {
      // Another request took the key first, here or in another process: this one is refused
      // before anything is decided, whether that one has been answered yet or not.
      if (earlier.requestFingerprint !== submission.requestFingerprint) return { outcome: keyReused(submission), kept: KEPT };
      if (earlier.status !== PENDING) return { outcome: { status: earlier.status as CommandOutcome['status'], body: JSON.parse(earlier.body), replayed: true }, kept: KEPT };
      // The same request, whose process died or left its claim: deciding again is safe, the
      // log's event ids give it one effect (ADR 0004, Decision 2).
    }
    try {
      return await this.record(checked, submission, true);
    } catch (error) {
      this.leaveClaim(submission);
      throw error;
    }
  }

  /** The answer a copy of this request got, as a record, when the subject's log holds its events. */
  private async answerInLog(checked: CheckedCommandRequest, submission: Required<CommandSubmission>): Promise<IdempotencyRecord | undefined> {
    // A key the log holds for another request is none of this copy's: the claim, looked at next, says so.
    const earlier = await this.earlierAnswerOfThisRequest(checked, submission, { asStoredNow: true });
    return earlier && { ...submission, status: 201, body: JSON.stringify(earlier), recordedAt: this.dependencies.now() };
  }

  /** A request that failed after claiming its key leaves it (`CopiesElsewhere.leave`). */
  private leaveClaim(submission: Required<CommandSubmission>): void {
    const left = this.copies.leave(this.dependencies.idempotencyRecords, submission, this.dependencies.now());
    // Written before the records close, like the answers.
    this.beingKept.add(left);
    void left.finally(() => this.beingKept.delete(left));
  }

  /**
   * The domain command, its personal data sealed. Once the subject's key was destroyed the vault
   * makes it no new one (SubjectKeyDestroyed, see `refusedForErasure`). An erasure's own evidence
   * would have gone with the key anyway: a repeated erasure is decided without it, and answered
   * as a repeat (or from the log, as a retry).
   */
  private async ledgerCommandOf(checked: CheckedCommandRequest, context: CommandBuildContext): Promise<LedgerCommand> {
    const { subjectId } = checked.request;
    // An erasure recorded before the vault remembered destroyed keys left no such memory: the
    // log's own word keeps a refused command from making the erased subject a new key.
    const isErased = await this.dependencies.ledgerStreams.isKnownErased(subjectId);
    const vault = isErased ? { seal: () => Promise.reject(new SubjectKeyDestroyed(subjectId)) } : context.vault;
    try {
      return await toLedgerCommand(checked, { ...context, vault });
    } catch (error) {
      const { type, request } = checked;
      if (!(error instanceof SubjectKeyDestroyed) || type !== 'EraseSubject') throw error;
      return toLedgerCommand({ type, request: { ...request, capture: { ...request.capture, evidenceRef: undefined } } }, { ...context, vault });
    }
  }

  /**
   * A command whose personal data cannot be sealed because the subject was erased: the retry of
   * one recorded before the erasure gets its first answer from the log (its own record may have
   * expired), anything else is refused for the erasure, as the domain refuses it.
   */
  private async refusedForErasure(checked: CheckedCommandRequest, submission: Required<CommandSubmission>): Promise<CommandOutcome> {
    let earlier: HandledCommand | undefined;
    try {
      earlier = await this.dependencies.ledgerStreams.earlierAnswer(checked.request.subjectId, submission);
    } catch (error) {
      if (error instanceof IdempotencyKeyReused) return keyReused(submission);
      throw error;
    }
    if (earlier) return { status: earlier.events.length > 0 ? 201 : 200, body: earlier, replayed: true };
    const refusal = new LedgerRuleBroken(
      'subject-erased',
      { type: checked.type, subjectId: checked.request.subjectId as SubjectId },
      checked.type === 'EndRelationship' ? 'the end of a contract after an erasure carries no evidence reference' : undefined,
    );
    return { status: 422, body: commandFailureOf(refusal)!.body, replayed: false };
  }

  /**
   * A request that states its instant is stamped no later than its first delivery's arrival: a
   * channel whose clock runs ahead has it stamped on arrival, and the same request delivered again
   * (another key, whether or not the first delivery recorded anything) is then the same statement,
   * never a newer choice. The first arrival is claimed like an idempotency key, under the
   * statement's fingerprint rather than its exact JSON (see `statementFingerprint`), and forgotten
   * with them: redelivered after that, the request is dated at its stated instant (ADR 0004, amendment).
   */
  private async asFirstDelivered(command: LedgerCommand, statement: string | undefined): Promise<LedgerCommand> {
    const { capture } = command;
    // Dated by the request (`statement`), also when our clock reads that very instant on arrival.
    if (statement === undefined) return command;
    const stated = capture.statedAt ?? capture.occurredAt;
    const first = await this.dependencies.idempotencyRecords.claim({
      client: FIRST_DELIVERIES,
      idempotencyKey: `${command.subjectId} ${statement}`,
      requestFingerprint: statement,
      recordedAt: capture.recordedAt,
    });
    const firstArrival = first && (new Date(first.recordedAt).toISOString() as Instant);
    if (!firstArrival || firstArrival >= capture.occurredAt) return command;
    return { ...command, capture: { ...capture, occurredAt: firstArrival, statedAt: stated } } as LedgerCommand;
  }

  private async record(checked: CheckedCommandRequest, submission: Required<CommandSubmission>, keepsAnswer: boolean): Promise<Answer> {
    const { vault, ledgerStreams, idempotencyRecords } = this.dependencies;
    const now = this.dependencies.now();
    let outcome: CommandOutcome;
    try {
      // Only a request that states its instant is a statement that can be delivered twice: one
      // without is dated on arrival, a new choice each time.
      const statement = checked.request.capture.occurredAt === undefined ? undefined : statementFingerprint(checked, this.dependencies);
      const command = await this.asFirstDelivered(await this.ledgerCommandOf(checked, { vault, now, idempotencyKey: submission.idempotencyKey }), statement);
      const { handled, isEarlierAnswer } = await ledgerStreams.handle(command, { ...submission, ...(statement !== undefined && { statementFingerprint: statement }) });
      outcome = { status: handled.events.length > 0 ? 201 : 200, body: handled, replayed: isEarlierAnswer };
    } catch (error) {
      if (error instanceof IdempotencyKeyReused) outcome = keyReused(submission);
      else if (error instanceof SubjectKeyDestroyed) outcome = await this.refusedForErasure(checked, submission);
      else if (error instanceof LedgerRuleBroken) outcome = { status: 422, body: commandFailureOf(error)!.body, replayed: false };
      else throw error;
    }
    if (outcome.status === 409) {
      // The log remembers the key for another request: this one's claim must not turn that one's retries away.
      if (keepsAnswer) await idempotencyRecords.release(submission);
      return { outcome, kept: KEPT };
    }
    // Crypto-shredding happens only once the erasure is durable in the log; the projector repeats it.
    if (checked.type === 'EraseSubject' && outcome.status !== 422) await vault.destroyKey(checked.request.subjectId);
    if (!keepsAnswer) return { outcome, kept: KEPT };
    const kept = this.keep(outcome, submission, now);
    this.beingKept.add(kept);
    void kept.finally(() => this.beingKept.delete(kept));
    // New events answer a retry from the log as this answer does, so the caller need not wait for
    // the record; an answer that appended nothing exists only in the record, and waits for it.
    if (outcome.status !== 201) await kept;
    return { outcome, kept };
  }

  private async keep(outcome: CommandOutcome, submission: Required<CommandSubmission>, now: Instant): Promise<void> {
    try {
      await this.dependencies.idempotencyRecords.save({
        client: submission.client,
        idempotencyKey: submission.idempotencyKey,
        requestFingerprint: submission.requestFingerprint,
        status: outcome.status,
        body: JSON.stringify(outcome.body),
        recordedAt: now,
      });
    } catch (error) {
      // The outcome stands (its events are already durable): a 503 saying nothing was recorded
      // would be false. A retry of the same request is answered from the log, at once here (the
      // claim left pending is no copy being decided); until an answer is kept, the key is not held
      // against reuse with another request.
      (this.dependencies.log ?? console).warn(
        `the answer to ${submission.client}'s command ${submission.idempotencyKey} was not kept (${(error as Error).message}); a retry is answered from the log`,
      );
      this.leaveClaim(submission);
    }
  }
}

/** An outcome, and when its record is kept: the next request with the same key waits for that. */
interface Answer {
  readonly outcome: CommandOutcome;
  readonly kept: Promise<void>;
}

const KEPT = Promise.resolve();


/** The records of first deliveries live beside idempotency records, under a client no key or header names. */
const FIRST_DELIVERIES = ' first deliveries';

function keyReused(submission: CommandSubmission): CommandOutcome {
  return { status: 409, body: commandFailureOf(new IdempotencyKeyReused(submission.client, submission.idempotencyKey ?? ''))!.body, replayed: false };
}
