import type { Admin } from 'kafkajs';

/**
 * How often answered commands are deleted from the command topic: one request for every partition
 * with something new to delete, never one per message.
 */
export const DELETE_ANSWERED_EVERY_MS = 5_000;
/** Failed attempts are spaced out up to this: a projector without the right to delete logs a dozen warnings an hour, not one every few seconds. */
const LONGEST_WAIT_AFTER_FAILURES_MS = 5 * 60_000;

export interface AnsweredCommandsOptions {
  readonly admin: Admin;
  readonly commandsTopic: string;
  /** The intake's consumer group: its committed offsets, read from the broker, bound every deletion. */
  readonly groupId: string;
  readonly everyMs?: number;
  readonly log: { warn(message: string): void };
}

/**
 * Deletes from `consent.commands.v1` the messages the intake has answered (Kafka's DeleteRecords),
 * so that the contact details and evidence references a channel sent in clear, sealed by the
 * intake as it recorded them, are readable on the topic for seconds after their command was
 * answered instead of the topic's 7 days, out of reach of an erasure (docs/topics.md).
 *
 * Only below an offset the intake's consumer group committed: the group commits a message's
 * offset after its result was acknowledged by the broker, one message after another per
 * partition, so nothing below it is still being retried, waiting for a copy decided by another
 * process, or waiting for its turn. Each instance deletes below the offsets it committed itself,
 * and, when it is given partitions, below those the group committed for them, which covers what
 * an instance that stopped or crashed had not deleted yet (and, after an upgrade, what was
 * answered before this existed). A failure to delete never holds up the intake: it is logged and
 * tried again later.
 */
export class AnsweredCommands {
  /** Per partition, the offset below which every message was answered: the group committed it. */
  private readonly answeredBelow = new Map<number, bigint>();
  /** Per partition, the offset below which the topic holds nothing any more, as last known. */
  private readonly deletedBelow = new Map<number, bigint>();
  private timer?: NodeJS.Timeout;
  private deleting?: Promise<void>;
  private failures = 0;
  private nextAttemptAt = 0;

  constructor(private readonly options: AnsweredCommandsOptions) {}

  /** The group committed `offset`, the next one to read, for `partition`: every message before it was answered. */
  committed(partition: number, offset: string): void {
    const answered = BigInt(offset);
    // Nothing is deleted above what the group committed: below what this instance deleted, the
    // topic was made anew (or the group's offsets reset), and how far it had deleted on the old one
    // would keep it from deleting on the new one until the group got past that point.
    if (answered < (this.deletedBelow.get(partition) ?? 0n)) {
      this.deletedBelow.delete(partition);
      this.answeredBelow.set(partition, answered);
      return;
    }
    if (answered > (this.answeredBelow.get(partition) ?? 0n)) this.answeredBelow.set(partition, answered);
  }

  /** This instance was given `partitions`: what the group answered there may not have been deleted by the instance that answered it. */
  async given(partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    try {
      const given = new Set(partitions);
      for (const [partition, offset] of await this.groupCommitted()) if (given.has(partition)) this.committed(partition, String(offset));
    } catch (error) {
      this.options.log.warn(`could not read what the command intake's group answered on ${this.options.commandsTopic} (${messageOf(error)}): it is deleted once the intake answers a later command there`);
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.deleteAnswered(), this.options.everyMs ?? DELETE_ANSWERED_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.deleting;
  }

  /** Deletes, in one request, below what was answered on every partition that has something new to delete. One at a time. */
  deleteAnswered(): Promise<void> {
    this.deleting ??= this.deleteOnce().finally(() => (this.deleting = undefined));
    return this.deleting;
  }

  private async deleteOnce(): Promise<void> {
    const { admin, commandsTopic, everyMs = DELETE_ANSWERED_EVERY_MS, log } = this.options;
    const due = [...this.answeredBelow].filter(([partition, offset]) => offset > (this.deletedBelow.get(partition) ?? 0n));
    if (due.length === 0 || Date.now() < this.nextAttemptAt) return;
    try {
      // Another instance may have deleted further since it was given the partition: kafkajs logs a
      // request below the topic's start as a warning, and it would delete nothing. This also loads
      // the topic's partition leaders, which kafkajs's deleteTopicRecords needs and does not load
      // ("Could not find the leader for the partition" on an admin client that never asked).
      for (const { partition, low } of await admin.fetchTopicOffsets(commandsTopic)) this.raiseDeletedBelow(partition, BigInt(low));
      // What this instance remembers may be past what the group now says it answered: the topic was
      // deleted and created again, or an operator reset the group's offsets to read it again.
      // Deleting below the old offsets would delete commands nobody has read.
      const groupCommitted = await this.groupCommitted();
      for (const [partition, offset] of due) {
        const committed = groupCommitted.get(partition) ?? 0n;
        if (offset > committed) this.answeredBelow.set(partition, committed);
      }
      const partitions = [...this.answeredBelow].filter(([partition, offset]) => offset > (this.deletedBelow.get(partition) ?? 0n)).map(([partition, offset]) => ({ partition, offset: String(offset) }));
      if (partitions.length > 0) await admin.deleteTopicRecords({ topic: commandsTopic, partitions });
      for (const { partition, offset } of partitions) this.raiseDeletedBelow(partition, BigInt(offset));
      this.failures = 0;
      this.nextAttemptAt = 0;
    } catch (error) {
      this.failures += 1;
      const waitMs = Math.min(everyMs * 2 ** (this.failures - 1), LONGEST_WAIT_AFTER_FAILURES_MS);
      this.nextAttemptAt = Date.now() + waitMs;
      log.warn(
        `could not delete answered commands from ${commandsTopic} (${messageOf(error)}): they stay readable there, with any personal data sent in clear, until deleted or the topic's retention removes them; trying again in ${Math.round(waitMs / 1000)} s`,
      );
    }
  }

  /** Per partition, the offset the group last committed, as the broker holds it; none where it never committed. */
  private async groupCommitted(): Promise<Map<number, bigint>> {
    const { admin, groupId, commandsTopic } = this.options;
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [commandsTopic] });
    // `-1`: the group never committed on that partition.
    return new Map((offsets?.partitions ?? []).filter(({ offset }) => BigInt(offset) > 0n).map(({ partition, offset }) => [partition, BigInt(offset)]));
  }

  private raiseDeletedBelow(partition: number, offset: bigint): void {
    if (offset > (this.deletedBelow.get(partition) ?? 0n)) this.deletedBelow.set(partition, offset);
  }
}

/**
 * kafkajs gives each partition's error apart from the message, inside the error that ended its
 * retries: a topic that is compacted says POLICY_VIOLATION, a missing ACL TOPIC_AUTHORIZATION_FAILED.
 */
function messageOf(error: unknown): string {
  type Failed = { message?: string; cause?: Failed; partitions?: { partition: number; error?: { message?: string; type?: string } }[] };
  const failed = error as Failed;
  const partitions = failed?.partitions ?? failed?.cause?.partitions ?? [];
  const perPartition = partitions.map(({ partition, error: cause }) => `partition ${partition}: ${cause?.type ?? cause?.message ?? 'failed'}`);
  return [failed?.message ?? String(error), ...perPartition].join('; ');
}
