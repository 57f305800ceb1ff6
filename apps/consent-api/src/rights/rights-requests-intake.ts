import { randomUUID } from 'node:crypto';
import {
  type Instant,
  RIGHTS_REQUEST_RULES,
  type RightsRequest,
  RightsRequestRuleBroken,
  type RightsRequestCommand,
  type RightsRequestRule,
} from '@consent-ledger/domain';
import { commandFailureOf, CopiesElsewhere, IdempotencyKeyReused, type IdempotencyRecords, PENDING, PerKeyQueue, requestFingerprint } from '@consent-ledger/ledger-commands';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import type { RightsRequests } from './rights-requests';

export type RightsErrorBody = { readonly error: RightsRequestRule | 'idempotency-key-reused'; readonly message: string };

/** What a call on a rights request answers, and whether it is the kept answer to an earlier call with the same key. */
export interface RightsOutcome {
  readonly status: 200 | 201 | 404 | 409 | 422;
  readonly body: RightsRequest | RightsErrorBody;
  readonly replayed: boolean;
}

export interface RightsSubmission {
  /** The API client: keys are scoped by it, and shared with `POST /v1/commands`. */
  readonly client: string;
  readonly idempotencyKey?: string;
  /** `fingerprintOf` the call as received. */
  readonly requestFingerprint: string;
}

export interface RightsRequestIntakeDependencies {
  readonly requests: Pick<RightsRequests, 'handle'>;
  readonly idempotencyRecords: IdempotencyRecords;
  readonly vault: Pick<PersonalDataVault, 'keyedDigest'>;
  readonly now: () => Instant;
  /** Told when an answer could not be kept (default: console.warn). */
  readonly log?: { warn(message: string): void };
}

/** A request id nobody used is not found; reusing or closing twice conflicts; any other rule is unprocessable. */
const STATUS: Partial<Record<RightsRequestRule, 404 | 409>> = {
  'unknown-request': 404,
  'request-already-received': 409,
  'request-already-closed': 409,
  'request-already-refused': 409,
};

/** The status a call breaking `rule` is answered with (the API document groups the rules by it). */
export const statusOfRule = (rule: RightsRequestRule): 404 | 409 | 422 => STATUS[rule] ?? 422;

/**
 * Rights-request calls with an `Idempotency-Key`, as `POST /v1/commands` takes them (ADR 0004):
 * the key is claimed in the idempotency records before deciding, a retry with the same call gets
 * the kept answer, another call under the key is a 409. The records are the ones commands use
 * (durable, shared by every API process, expired after `IDEMPOTENCY_RETENTION`); a copy of a
 * call still being decided in another process is given that call's answer (`CopiesElsewhere`); a
 * key left pending by a process that died, or whose record expired, is decided again, and the
 * events' ids, derived from the key, make that find the first attempt's events instead of
 * recording a second extension.
 */
export class RightsRequestIntake {
  private readonly keys = new PerKeyQueue();
  private readonly copies = new CopiesElsewhere();

  constructor(private readonly dependencies: RightsRequestIntakeDependencies) {}

  /** What tells a retry of this call from another call under the same key: see `requestFingerprint`. */
  fingerprintOf(call: unknown): string {
    return requestFingerprint(call, this.dependencies.vault);
  }

  execute(command: RightsRequestCommand, submission: RightsSubmission): Promise<RightsOutcome> {
    const { client, idempotencyKey } = submission;
    if (idempotencyKey === undefined) return this.decide(command, { ...submission, idempotencyKey: randomUUID() });
    // Copies of one call in flight in this process wait for the first and get its answer.
    return this.keys.run(JSON.stringify([client, idempotencyKey]), () => this.executeOnce(command, { ...submission, idempotencyKey }));
  }

  private async executeOnce(command: RightsRequestCommand, submission: Required<RightsSubmission>): Promise<RightsOutcome> {
    const { idempotencyRecords, now } = this.dependencies;
    const claim = () => idempotencyRecords.claim({ ...submission, recordedAt: now() });
    const earlier = await this.copies.settled(submission, await claim(), claim, { holderGone: (pending) => idempotencyRecords.holderGone(pending) });
    if (earlier) {
      if (earlier.requestFingerprint !== submission.requestFingerprint) return keyReused(submission);
      if (earlier.status !== PENDING) return { status: earlier.status as RightsOutcome['status'], body: JSON.parse(earlier.body), replayed: true };
      // The same call, whose process died or left its claim: deciding again finds its events, if
      // it recorded any, by their ids.
    }
    let outcome: RightsOutcome;
    try {
      outcome = await this.decide(command, submission);
    } catch (error) {
      void this.copies.leave(idempotencyRecords, submission, now());
      throw error;
    }
    if (isKeyReused(outcome)) {
      // The log remembers the key for another call: this one's claim must not turn that one's retries away.
      await idempotencyRecords.release(submission);
      return outcome;
    }
    await this.keep(outcome, submission);
    return outcome;
  }

  private async decide(command: RightsRequestCommand, trace: Required<RightsSubmission>): Promise<RightsOutcome> {
    try {
      const { request, isNew, isEarlierAnswer } = await this.dependencies.requests.handle(command, trace);
      return { status: isNew && command.type === 'ReceiveRightsRequest' ? 201 : 200, body: request, replayed: isEarlierAnswer };
    } catch (error) {
      if (error instanceof IdempotencyKeyReused) return keyReused(trace);
      if (error instanceof RightsRequestRuleBroken) {
        return { status: statusOfRule(error.rule), body: { error: error.rule, message: RIGHTS_REQUEST_RULES[error.rule] }, replayed: false };
      }
      throw error;
    }
  }

  /** Every answer is kept but the 409 for a reused key: a refusal by a rule is the answer to its key, as for commands. */
  private async keep(outcome: RightsOutcome, submission: Required<RightsSubmission>): Promise<void> {
    try {
      await this.dependencies.idempotencyRecords.save({ ...submission, status: outcome.status, body: JSON.stringify(outcome.body), recordedAt: this.dependencies.now() });
    } catch (error) {
      // What was recorded stands (a 503 saying nothing was would be false); a retry is decided
      // again, at once here and in other processes, and finds in the log, by their ids, the events
      // this call recorded.
      void this.copies.leave(this.dependencies.idempotencyRecords, submission, this.dependencies.now());
      (this.dependencies.log ?? console).warn(
        `the answer to ${submission.client}'s rights-request call ${submission.idempotencyKey} was not kept (${(error as Error).message}); a retry is decided again`,
      );
    }
  }
}

function keyReused({ client, idempotencyKey }: RightsSubmission): RightsOutcome {
  return { status: 409, body: commandFailureOf(new IdempotencyKeyReused(client, idempotencyKey ?? ''))!.body as RightsErrorBody, replayed: false };
}

const isKeyReused = ({ status, body }: RightsOutcome): boolean => status === 409 && 'error' in body && body.error === 'idempotency-key-reused';
