import { Logger } from '@nestjs/common';
import { type KafkaContext, KafkaHeaders, type KafkaOptions, type OutgoingResponse, ServerKafka } from '@nestjs/microservices';
import type { EachMessagePayload, RecordMetadata } from 'kafkajs';
import { personalDataInTraceId } from '@consent-ledger/ledger-commands';
import { heartbeatingWhile } from '../kafka/heartbeating';

/** The reply address a request names in its headers, decoded as NestJS decodes them. */
export interface ReplyAddress {
  readonly topic: unknown;
  readonly partition: unknown;
}

/**
 * Why a request's answer may not go where it asks, or undefined when it may. Answers go only to
 * the reply topic of the deployment: any topic named in a header would let whoever can write a
 * question append to our own topics (an unkeyed "event" on the events topic) or to anyone else's.
 * A partition must be a partition number; whether the topic has it, only the send can tell.
 */
export function refusedReplyAddress(address: ReplyAddress, replyTopic: string): string | undefined {
  if (address.topic !== replyTopic) return `reply topic ${quoted(address.topic)} is not ${replyTopic}`;
  if (address.partition !== null && address.partition !== undefined && !/^(0|[1-9][0-9]{0,8})$/.test(String(address.partition))) {
    return `reply partition ${quoted(address.partition)} is not a partition number`;
  }
  return undefined;
}

/**
 * Why a request's correlation id may not go back in its answer's header, or undefined when it may:
 * every client asking reads the reply topic, so an id holding an e-mail address, a phone number,
 * a national register number or an IBAN would be published to all of them (found in review, the
 * last two on 2026-11-30). It is not repeated in the refusal either. ClientKafka's ids are UUIDs,
 * which the screen never takes for one.
 */
export function refusedCorrelationId(correlationId: unknown): string | undefined {
  if (typeof correlationId !== 'string') return undefined;
  // Bounded before it is screened: the screens take time that grows with the square of a long text,
  // and a correlation id of 150 KB held the projector's event loop for longer than its consumers'
  // session, so the question was delivered again after each rebalance, for good (found in review).
  if (correlationId.length > MAX_CORRELATION_ID_LENGTH) return `its correlation id is longer than ${MAX_CORRELATION_ID_LENGTH} characters`;
  const held = personalDataInTraceId(correlationId);
  return held && `its correlation id holds ${held}, which the answer would publish to every client on the reply topic`;
}

/** As on the command topic: ClientKafka's ids are UUIDs, 36 characters. */
export const MAX_CORRELATION_ID_LENGTH = 200;

/** Kafka's longest topic name. */
const MAX_QUOTED_LENGTH = 249;
/** RFC 5321's; the other screened numbers are shorter. */
const LONGEST_EMAIL_ADDRESS = 320;

/**
 * Header text is the sender's: escaped, and cut at Kafka's longest topic name (249). The refusal
 * goes to the log, so text holding personal data is not repeated, as for a correlation id.
 */
function quoted(value: unknown): string {
  if (typeof value !== 'string') return Buffer.isBuffer(value) ? 'of binary content' : `of type ${value === null ? 'null' : typeof value}`;
  // Screened as far as what is repeated could reach into an e-mail address or number cut by the
  // end, not to its end: the whole header, however long, held the event loop (see MAX_CORRELATION_ID_LENGTH).
  const held = personalDataInTraceId(value.slice(0, MAX_QUOTED_LENGTH + LONGEST_EMAIL_ADDRESS));
  if (held) return `holding ${held} (not repeated here)`;
  return JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value);
}

/**
 * NestJS's Kafka server, answering `consent.decision` only on the deployment's reply topic.
 *
 * NestJS replies to the topic and partition the request's `kafka_replyTopic` and
 * `kafka_replyPartition` headers name, whatever they are, and sends the reply after the handler
 * has returned, from a callback nobody awaits: a reply the broker refused (a topic that does not
 * exist, an unkeyed message on a compacted topic) was an unhandled rejection, and ended the
 * process. A request naming another reply topic is now not answered; a reply that fails to send
 * is logged. Either way the request's offset is committed, as for any other request.
 */
export class DecisionServer extends ServerKafka {
  private readonly log = new Logger('DecisionRequests');

  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly replyTopic: string,
  ) {
    super(options);
  }

  /** An answer waits up to DATABASE_ANSWER_TIMEOUT_SECONDS for the subject's stream: longer than the session timeout, if so set. */
  override handleMessage(payload: EachMessagePayload): Promise<unknown> {
    return heartbeatingWhile(payload.heartbeat, () => this.answerOrRefuse(payload));
  }

  private async answerOrRefuse(payload: EachMessagePayload): Promise<unknown> {
    const headers = payload.message.headers ?? {};
    const topic = this.decoded(headers[KafkaHeaders.REPLY_TOPIC]);
    // Without a reply topic NestJS takes the message for an event and sends nothing.
    if (topic === null || topic === '') return super.handleMessage(payload);
    const refusal =
      refusedReplyAddress({ topic, partition: this.decoded(headers[KafkaHeaders.REPLY_PARTITION]) }, this.replyTopic) ??
      refusedCorrelationId(this.decoded(headers[KafkaHeaders.CORRELATION_ID]));
    if (refusal === undefined) return super.handleMessage(payload);
    this.log.warn(`not answered: ${payload.topic}[${payload.partition}] at offset ${payload.message.offset}: ${refusal}`);
    return undefined;
  }

  override async sendMessage(
    message: OutgoingResponse,
    replyTopic: string,
    replyPartition: string | undefined | null,
    correlationId: string,
    context: KafkaContext,
  ): Promise<RecordMetadata[]> {
    const notSent = (why: string) => {
      const partition = replyPartition === undefined || replyPartition === null ? '' : `[${replyPartition}]`;
      this.log.error(`the answer to ${context.getTopic()}[${context.getPartition()}] at offset ${context.getMessage().offset} could not be sent to ${replyTopic}${partition}: ${why}`);
    };
    try {
      const sent = await super.sendMessage(message, replyTopic, replyPartition, correlationId, context);
      // kafkajs drops, without an error, messages for a partition its metadata does not list.
      if (sent.length === 0) notSent('the topic has no such partition');
      return sent;
    } catch (error) {
      notSent(error instanceof Error ? error.message : String(error));
      return [];
    }
  }

  /** With NestJS's own parser, so that what is checked is what NestJS then sends to. */
  private decoded(header: Buffer | string | (Buffer | string)[] | undefined): unknown {
    return header === undefined ? null : this.parser!.decode(header as Buffer);
  }
}
