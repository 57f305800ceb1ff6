import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { personalDataInTraceId } from '@consent-ledger/ledger-commands';
import type { FastifyInstance } from 'fastify';

/** The header a caller may send its own id in, and every answer carries the id under. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** The header's name as Node and Fastify keep it: given lower-case, no answer pays for lowering it. */
const REQUEST_ID_KEY = 'x-request-id';

/**
 * An id a caller sends is kept when it is 1 to 128 printable ASCII characters without a space:
 * what gateways and tracing tools send (UUIDs, W3C trace ids, `Root=1-…;Parent=…`), and nothing
 * that could break a log line (no line feed, no control character). The same id sent twice
 * reaches Node joined by ", ", so it is replaced too.
 */
export const KEPT_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The id of the request the log lines being written now are for; set only while they are written. */
let requestOfLines: string | undefined;

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when it is well formed, a new UUID otherwise.
 * A malformed id is replaced, never refused: a header meant for tracing must not fail a command.
 * One holding an e-mail address, a phone number, a national register number or an IBAN is
 * replaced too, as the command topic's `correlation-id` is refused: the id is written to the log
 * in clear. Replacing costs the caller one id, so eleven digits that merely pass the check are
 * replaced too.
 */
export function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_KEY];
  return typeof sent === 'string' && KEPT_REQUEST_ID.test(sent) && personalDataInTraceId(sent) === undefined ? sent : randomUUID();
}

/** The id of the request the line being written is for (`linesFor`); none outside one. */
export function currentRequestId(): string | undefined {
  return requestOfLines;
}

/**
 * Runs `write` (which logs, synchronously) with its lines naming `requestId`. The places that log
 * for a request have it at hand: the error filter (a fault of ours, a storage refusal) and the
 * answer hook (the storage answering again). An AsyncLocalStorage would carry the id into every
 * await instead, but on Node 20 it hooks every promise of the process: 10 to 15% of the service's
 * CPU per command, measured on the commands benchmark (docs/performance.md, request ids).
 */
export function linesFor<T>(requestId: string, write: () => T): T {
  const outer = requestOfLines;
  requestOfLines = requestId;
  try {
    return write();
  } finally {
    requestOfLines = outer;
  }
}

/**
 * Every answer carries its request's id. Registered before every other `onRequest` hook, so the
 * answers those give (401, 503 while closing) carry it too.
 */
export function answerUnderRequestIds(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_KEY, request.id);
    done();
  });
}
