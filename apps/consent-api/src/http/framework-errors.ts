import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyServerOptions } from 'fastify';
import { REQUEST_ID_HEADER } from './request-ids';

const MAX_PARAM_LENGTH = 1024;

type RequestProblem = { readonly status: number; readonly field: string; readonly message: string };

const body = ({ field, message }: RequestProblem) => JSON.stringify({ error: 'validation-failed', details: [{ field, message }] });

/**
 * What Fastify and Node refuse before any route runs, answered like every other bad request
 * (`validation-failed` with the field and the reason) instead of in their own shapes, and without
 * echoing the request back (Fastify's 414 repeated the whole path).
 */
export const requestErrorOptions: Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> & { routerOptions: { maxParamLength: number } } = {
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors: (error, request, untypedReply) => {
    // Typed for the route's schemas, which this handler has none of.
    const reply = untypedReply as unknown as FastifyReply;
    const problem: RequestProblem =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? { status: 400, field: 'path', message: `must not have a segment longer than ${MAX_PARAM_LENGTH} characters` }
        : { status: 400, field: 'path', message: 'must be a valid URL (a percent sign must start a %XX escape of UTF-8)' };
    // Answered before any hook runs, so the request id is set here.
    void reply.code(problem.status).header('content-type', 'application/json').header(REQUEST_ID_HEADER, request.id).send(body(problem));
  },
  // Malformed HTTP reaches no request object: Node hands the socket over, and the answer is written on it.
  clientErrorHandler: (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const problem: RequestProblem =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, field: 'headers', message: 'are larger than this server accepts' }
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? { status: 408, field: 'body', message: 'did not arrive in time' }
          : { status: 400, field: 'headers', message: 'must be valid HTTP (no control characters in a header, for instance)' };
    if (socket.writable) {
      const text = body(problem);
      // Node hands over the socket, not the request: a fresh id, under which nothing is logged.
      socket.write(
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${REQUEST_ID_HEADER}: ${randomUUID()}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy(error);
  },
};
