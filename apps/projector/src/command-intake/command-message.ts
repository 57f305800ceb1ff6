import type { IHeaders, KafkaMessage } from 'kafkajs';
import { BODY, COMMAND_SHAPE_LIMITS, contactDetailsProblem, type FieldProblem, identityNumberInKeyProblem, idempotencyKeyProblem, personalDataInTraceId, readJsonBytes, screenJson } from '@consent-ledger/ledger-commands';

/** A command is a few hundred bytes; the HTTP API takes at most 64 KiB, and so does the topic. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** When the producer names no client: Kafka ACLs, not this header, decide who may write commands. */
export const DEFAULT_KAFKA_CLIENT = 'kafka';

const CLIENT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** Copied into the result: bounded, so that an answer can never be larger than the broker takes. */
const CORRELATION_ID = /^[\x20-\x7e]{1,200}$/;

/** Where a message sat, so a result can name it even when the message had no usable key. */
export interface MessageOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export type ReadCommandMessage =
  | {
      readonly kind: 'command';
      readonly json: unknown;
      readonly client: string;
      readonly idempotencyKey: string;
      readonly correlationId?: string;
    }
  | {
      readonly kind: 'poison';
      /** The key the error result goes out under: the message's idempotency key if it had a usable one. */
      readonly resultKey: string;
      readonly problems: readonly FieldProblem[];
      /** The sending system, when its header was usable: results of two clients can share a key. */
      readonly client?: string;
      readonly correlationId?: string;
    };

/**
 * Reads a `consent.commands.v1` message: the same JSON as `POST /v1/commands` in the value, the
 * idempotency key in the `idempotency-key` header, the sending system in `client`. The message key
 * is not a fallback for the header: it is the subject id, shared by all of a subject's commands.
 * Anything unreadable is a poison message: answered, never retried.
 */
export function readCommandMessage(message: KafkaMessage, origin: MessageOrigin): ReadCommandMessage {
  const headers = message.headers ?? {};
  // Sent twice, a header is read by this intake and by whatever checks the topic (an ACL proxy, a
  // log reader) each its own way, first or last: the command would be keyed, or attributed, other
  // than they saw (found in review: the first of two was taken silently). Refused, like a JSON field sent twice.
  const repeated = (['idempotency-key', 'client', 'correlation-id'] as const).find((name) => Array.isArray(headers[name]) && (headers[name] as unknown[]).length > 1);
  const givenCorrelationId = repeated === 'correlation-id' ? undefined : header(headers, 'correlation-id');
  const correlationIdProblem = givenCorrelationId === undefined ? undefined : problemOfCorrelationId(givenCorrelationId);
  const correlationId = givenCorrelationId !== undefined && correlationIdProblem === undefined ? givenCorrelationId : undefined;
  const idempotencyKey = repeated === 'idempotency-key' ? undefined : header(headers, 'idempotency-key');
  const client = header(headers, 'client') ?? DEFAULT_KAFKA_CLIENT;
  const clientProblem = problemOfClient(client);
  const fallbackKey = `unkeyed:${origin.partition}:${origin.offset}`;
  const poison = (problems: FieldProblem[]): ReadCommandMessage => ({
    kind: 'poison',
    resultKey: idempotencyKey !== undefined && idempotencyKeyProblem(idempotencyKey) === undefined ? idempotencyKey : fallbackKey,
    problems,
    ...(repeated !== 'client' && clientProblem === undefined && { client }),
    ...(correlationId !== undefined && { correlationId }),
  });

  if (repeated !== undefined) return poison([{ field: repeated, message: 'is sent more than once: send each header once, as readers disagree on which value counts' }]);
  if (idempotencyKey === undefined) {
    // Kafka header names are case-sensitive, and HTTP habits write Idempotency-Key.
    const otherCase = Object.keys(headers).some((name) => name !== 'idempotency-key' && name.toLowerCase() === 'idempotency-key');
    const message = otherCase ? 'is required as a header named in lower case, idempotency-key (Kafka header names are case-sensitive)' : 'is required as a header (the message key is the subject id)';
    return poison([{ field: 'idempotency-key', message }]);
  }
  const keyProblem = idempotencyKeyProblem(idempotencyKey);
  if (keyProblem) return poison([{ field: 'idempotency-key', message: keyProblem }]);
  if (correlationIdProblem !== undefined) return poison([{ field: 'correlation-id', message: correlationIdProblem }]);
  if (clientProblem !== undefined) return poison([{ field: 'client', message: clientProblem }]);
  const value = message.value;
  if (!value || value.length === 0) return poison([{ field: BODY, message: 'is empty: expected the command as JSON' }]);
  if (value.length > MAX_COMMAND_BYTES) return poison([{ field: BODY, message: `must be at most ${MAX_COMMAND_BYTES} bytes (got ${value.length})` }]);
  // Depth first: 64 KiB of brackets would be parsed and walked for nothing, holding up the partition.
  const read = readJsonBytes(value, COMMAND_SHAPE_LIMITS.maxDepth);
  if ('problem' in read) return poison([read.problem]);
  const { json } = read;
  // Before anything walks the JSON recursively (the request fingerprint does): a body nested
  // thousands of levels deep, well within the size limit, would overflow the stack and stall the partition.
  const shapeProblems = screenJson(json);
  if (shapeProblems.length > 0) return poison(shapeProblems);
  return {
    kind: 'command',
    json,
    client,
    idempotencyKey,
    ...(correlationId !== undefined && { correlationId }),
  };
}

/**
 * The correlation id is copied into the result, on a topic every channel system reads for 7 days:
 * screened for contact details (found in review: a call-centre platform correlating by the
 * caller's number or e-mail address published it to all of them) and for national register
 * numbers and IBANs however written, eleven bare digits included (found in review on 2026-11-30).
 * Idempotency keys are read only for their unmistakable shapes: a key is required and an order
 * number in it could pass the check; a correlation id is optional, and a channel whose numeric
 * ids are refused one time in 500 can prefix them.
 */
function problemOfCorrelationId(correlationId: string): string | undefined {
  if (!CORRELATION_ID.test(correlationId)) return 'must be 1 to 200 printable ASCII characters';
  const held = personalDataInTraceId(correlationId);
  return held && `must not contain ${held}: it is copied to the result, which every channel system reads`;
}

/**
 * The client names the sending system; it is recorded in clear in the events' metadata
 * (`kafka/<client>`), for as long as the log keeps them, and copied into every result. Its
 * characters let a phone number or an identity number through (found by a channel team: a
 * `0475123456` was recorded and published), so it is screened as an idempotency key is: only the
 * shapes that almost never occur by chance, since a refused client is refused for every command.
 */
function problemOfClient(client: string): string | undefined {
  if (!CLIENT.test(client)) return 'must be a name of letters, digits and . _ : - (at most 64)';
  return identityNumberInKeyProblem(client) ?? contactDetailsProblem(client);
}

function header(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}
