import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import { AppendOutcomeUnknown } from '@consent-ledger/event-store';
import { type CommandIntake, type CommandScope, commandFailureOf, isStorageUnavailable, scopeToRecord, validationFailed } from '@consent-ledger/ledger-commands';
import { AnsweredCommands } from './answered-commands';
import { type MessageOrigin, readCommandMessage } from './command-message';
import { COMMAND_RESULT_SCHEMA_VERSION, type CommandResult } from './command-result';
import { EMPTY_FETCH_WAIT_MS } from '../kafka/kafka-client';
import { HEARTBEAT_INTERVAL_MS, heartbeatingWhile } from '../kafka/heartbeating';

/**
 * The topic has no API keys: write access to it, granted by Kafka ACLs, is all a message carries.
 * The controller's acts (an erasure, an objection review) are not taken on it. Relationship
 * commands are, as before `relationships:write` existed, so a CRM can feed them over Kafka: the
 * ACLs decide who may, and a channel system given write access to the topic can record
 * relationships too (docs/topics.md).
 */
const TAKEN_ON_THE_TOPIC: ReadonlySet<CommandScope> = new Set(['commands:write', 'relationships:write']);

/** The consumer group every projector instance with `topicPrefix` takes commands in. */
export const commandIntakeGroupId = (topicPrefix: string): string => `${topicPrefix}consent-projector-commands`;

/** How long the intake waits before starting again after its first crash kafkajs does not recover from; then twice as long each time. */
const FIRST_RESTART_WAIT_MS = 1_000;
const LONGEST_RESTART_WAIT_MS = 60_000;

export interface CommandTopicIntakeOptions {
  readonly kafka: Kafka;
  /** The idempotent producer results go out on. */
  readonly producer: Producer;
  readonly intake: CommandIntake;
  readonly commandsTopic: string;
  readonly resultsTopic: string;
  /** Shared by every projector instance: the topic's partitions are spread over them. */
  readonly groupId: string;
  /** Attempts at a command while storage is unavailable, before answering 503. */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  /**
   * Delete each command from the topic once it is answered (KAFKA_DELETE_ANSWERED_COMMANDS): off
   * only when another consumer reads the topic, which would then miss what was deleted.
   */
  readonly deleteAnswered: boolean;
  readonly log: { warn(message: string): void; error(message: string, error?: unknown): void };
}

/**
 * Command intake over Kafka: each message of `consent.commands.v1` is checked and run exactly as
 * `POST /v1/commands` would, and answered on `consent.command-results.v1` under its idempotency key.
 *
 * A message is answered before its offset is committed, so a crash in between answers it twice
 * (the intake's idempotency records make the second answer a replay). Once committed, it is
 * deleted from the topic with what it carried in clear (AnsweredCommands). Nothing is ever left
 * unanswered in a way that stops the partition: unreadable messages get an error result at once,
 * storage outages are retried a bounded number of times and then answered 503 (the channel
 * retries with the same key). A plain kafkajs consumer, not a Nest @EventPattern: the result must
 * be acknowledged by the broker before the offset moves, which Nest's event handling does not
 * let us order.
 */
export class CommandTopicIntake {
  private consumer?: Consumer;
  private deletion?: { readonly admin: Admin; readonly answered: AnsweredCommands };
  private isStopped = false;
  private restartTimer?: NodeJS.Timeout;
  /** Crashes since a command was last answered: each waits twice as long before starting again. */
  private crashes = 0;

  constructor(private readonly options: CommandTopicIntakeOptions) {}

  async start(): Promise<void> {
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      // A dead instance's partitions move to the others after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: EMPTY_FETCH_WAIT_MS,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.startAgainLater(payload.error);
    });
    if (this.options.deleteAnswered) await this.deleteWhatIsAnswered(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.commandsTopic, fromBeginning: true });
    // A command's attempts can outlast the session timeout while PostgreSQL does not answer.
    await consumer.run({ partitionsConsumedConcurrently: 3, eachMessage: (payload) => heartbeatingWhile(payload.heartbeat, () => this.answer(payload)) });
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.restartTimer);
    await this.stopConsuming();
  }

  private async stopConsuming(): Promise<void> {
    try {
      await this.consumer?.disconnect();
    } finally {
      this.consumer = undefined;
      await this.stopDeleting();
    }
  }

  /**
   * kafkajs starts a consumer again after an error it counts as passing, and leaves it stopped
   * after any other (found by a channel team: a batch in a compression it could not read): the
   * process lived on, and no channel's command was answered again until it was restarted. So the
   * intake starts again itself, waiting longer after each crash up to a minute, and says so.
   */
  private startAgainLater(error: Error): void {
    if (this.isStopped) return;
    const waitMs = Math.min(FIRST_RESTART_WAIT_MS * 2 ** this.crashes, LONGEST_RESTART_WAIT_MS);
    this.crashes += 1;
    this.options.log.error(`the command intake stopped on an error Kafka's client does not recover from; starting it again in ${waitMs / 1000} s`, error);
    this.restartTimer = setTimeout(() => void this.startAgain(), waitMs);
  }

  private async startAgain(): Promise<void> {
    try {
      await this.stopConsuming();
      if (!this.isStopped) await this.start();
    } catch (error) {
      this.startAgainLater(error as Error);
    }
  }

  /** Disconnecting commits what was answered last; one more deletion takes it off the topic. */
  private async stopDeleting(): Promise<void> {
    if (!this.deletion) return;
    const { admin, answered } = this.deletion;
    this.deletion = undefined;
    await answered.stop();
    await answered.deleteAnswered();
    await admin.disconnect();
  }

  /**
   * The offsets the group commits, only ever past answered messages, say what may be deleted
   * (AnsweredCommands). kafkajs reports each commit once the coordinator accepted it.
   */
  private async deleteWhatIsAnswered(consumer: Consumer): Promise<void> {
    const { kafka, commandsTopic, groupId, log } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    const answered = new AnsweredCommands({ admin, commandsTopic, groupId, log });
    consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const { topic, partitions } of payload.topics) {
        if (topic === commandsTopic) for (const { partition, offset } of partitions) answered.committed(Number(partition), offset);
      }
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => void answered.given(payload.memberAssignment[commandsTopic] ?? []));
    answered.start();
    this.deletion = { admin, answered };
  }

  private async answer({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const origin: MessageOrigin = { topic, partition, offset: message.offset };
    const read = readCommandMessage(message, origin);
    const client = read.client;
    const result: CommandResult =
      read.kind === 'poison'
        ? { schemaVersion: COMMAND_RESULT_SCHEMA_VERSION, idempotencyKey: read.resultKey, ...(client !== undefined && { client }), ...validationFailed(read.problems), replayed: false, source: origin }
        : { schemaVersion: COMMAND_RESULT_SCHEMA_VERSION, idempotencyKey: read.idempotencyKey, client: read.client, ...(await this.run(read, heartbeat)), source: origin };
    // If this send fails, kafkajs redelivers the message (its offset was not committed) and the
    // intake answers it again from its idempotency record.
    await this.options.producer.send({
      topic: this.options.resultsTopic,
      acks: -1,
      messages: [
        {
          key: result.idempotencyKey,
          value: JSON.stringify(result),
          headers: {
            'idempotency-key': result.idempotencyKey,
            ...(client !== undefined && { client }),
            'schema-version': String(COMMAND_RESULT_SCHEMA_VERSION),
            status: String(result.status),
            ...(read.correlationId !== undefined && { 'correlation-id': read.correlationId }),
          },
        },
      ],
    });
    this.crashes = 0;
  }

  private async run(
    read: Extract<ReturnType<typeof readCommandMessage>, { kind: 'command' }>,
    heartbeat: () => Promise<void>,
  ): Promise<Pick<CommandResult, 'status' | 'body' | 'replayed'>> {
    const { intake, maxAttempts = 5, retryBaseMs = 200, log } = this.options;
    // An attempt whose append may have committed: a later attempt that cannot reach storage at all
    // knows no better, and answering its failure would say nothing was recorded (found in review).
    let mayHaveBeenRecorded: AppendOutcomeUnknown | undefined;
    // A heartbeat refused because the group rebalances (another instance joining or leaving) is no
    // failure of the command: thrown, it ended the handling, and the command was delivered again
    // once the group had settled, its attempts begun anew (found in review).
    const beat = () => heartbeat().catch(() => undefined);
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Inside the try: whatever a message makes fail is answered, never rethrown into kafkajs,
        // which would redeliver it for ever and stall the partition.
        const checked = intake.check(read.json);
        if (checked.errors) return { ...validationFailed(checked.errors), replayed: false };
        const scope = scopeToRecord(checked.value.type);
        if (!TAKEN_ON_THE_TOPIC.has(scope)) {
          const message = `${checked.value.type} needs the ${scope} scope: send it to POST /v1/commands with a key that has it`;
          return { status: 403, body: { error: 'forbidden', message }, replayed: false };
        }
        const requestFingerprint = intake.fingerprintOf(read.json);
        // Recorded before topic clients had names of their own: a retry sent across the upgrade is
        // answered from the log (found in review: it was recorded again, a withdrawn consent back).
        const beforeUpgrade = await intake.recordedAnswer(checked.value, { client: read.client, idempotencyKey: read.idempotencyKey, requestFingerprint });
        if (beforeUpgrade) return beforeUpgrade;
        // Waiting for a copy of the command decided by another instance can outlast the session timeout.
        const outcome = await intake.execute(checked.value, { client: onTheTopic(read.client), idempotencyKey: read.idempotencyKey, requestFingerprint }, { whileWaiting: beat });
        return { status: outcome.status, body: outcome.body, replayed: outcome.replayed };
      } catch (error) {
        if (error instanceof AppendOutcomeUnknown) mayHaveBeenRecorded = error;
        const failure = commandFailureOf(isStorageUnavailable(error) && mayHaveBeenRecorded ? mayHaveBeenRecorded : error);
        if (isStorageUnavailable(error) && attempt < maxAttempts) {
          log.warn(`command ${read.idempotencyKey}: storage unavailable (attempt ${attempt} of ${maxAttempts}), retrying`);
          await delay(retryBaseMs * 2 ** (attempt - 1));
          await beat();
          continue;
        }
        if (failure) return { status: failure.status, body: failure.body, replayed: false };
        log.error(`command ${read.idempotencyKey} failed`, error);
        return { status: 500, body: { error: 'internal-error', message: 'the command could not be processed; retry with the same key to learn whether it was recorded' }, replayed: false };
      }
    }
  }
}

/**
 * The name a client on the topic has for idempotency keys and in the events' metadata. The
 * `client` header is not authenticated, so it must not reach the keys of the HTTP client of the
 * same name (found in review: a message naming it could claim that client's keys, and be answered
 * with its stored answers). HTTP clients' names cannot hold a `/`.
 */
export const onTheTopic = (client: string): string => `kafka/${client}`;
