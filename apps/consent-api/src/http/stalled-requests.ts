import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyInstance, FastifyRequest } from 'fastify';

/**
 * A request, headers and body, must have arrived within `timeoutMs`; otherwise it is answered 408
 * (see `requestErrorOptions`) and its connection closed. Fastify's default, no limit, let one
 * client hold thousands of sockets open by sending a byte of body every few seconds.
 * Node looks for late requests every `connectionsCheckingInterval` (30 s by its default), so a
 * request is cut between `timeoutMs` and `timeoutMs` plus that interval.
 */
export function requestTimeoutOptions(timeoutMs: number): Pick<FastifyHttpOptions<Server>, 'requestTimeout' | 'http'> {
  return {
    requestTimeout: timeoutMs,
    // Given here too so that Node derives its headers timeout from it (the smaller of 60 s and this).
    http: { requestTimeout: timeoutMs, connectionsCheckingInterval: Math.min(timeoutMs, 5_000) },
  };
}

/**
 * An answer given before the body was read (401 without a key, 413, 415, 503 while closing) closes
 * the connection. Kept open, Node would read and discard the rest of the body for as long as the
 * client took to send it, holding the socket for a caller that was already refused.
 */
export function closeConnectionsLeftWithUnreadBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (hasBody(request) && !request.raw.complete) void reply.header('Connection', 'close');
    done(null, payload);
  });
}

function hasBody({ headers }: FastifyRequest): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}
