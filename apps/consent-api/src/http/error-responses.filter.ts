import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { failureClassesOf } from '@consent-ledger/event-store';
import { commandFailureOf, RETRY_AFTER_SECONDS } from '@consent-ledger/ledger-commands';
import { ReadModelsBehind } from '@consent-ledger/read-models';
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { authenticatedClient } from '../api-keys/api-key.guard';
import type { ApiKeys } from '../api-keys/api-keys';
import { RequestInvalid } from './request-invalid';
import { linesFor } from './request-ids';
import { routeOf, type StoreOutages } from './store-outages';

interface ErrorResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly retryAfterSeconds?: number;
  /** For 405: the methods the path does answer. */
  readonly allow?: readonly string[];
}

/**
 * The one place errors become responses. Clients get a stable `error` name and never a stack
 * trace; a fault of ours is logged under an id the response repeats, for the operator to find,
 * and every 5xx body carries the request's id, which each log line written for it carries too.
 */
@Catch()
export class ErrorResponsesFilter implements ExceptionFilter {
  private readonly logger = new Logger('consent-api');

  /**
   * `keys`: a wrong method is named only to a caller with a valid key (see the 404 case).
   * `outages`: told of each request refused for storage unavailable.
   */
  constructor(
    private readonly keys?: ApiKeys,
    private readonly outages?: StoreOutages,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const response = linesFor(request.id, () => this.responseFor(error, request));
    if (response.retryAfterSeconds !== undefined) reply.header('Retry-After', String(response.retryAfterSeconds));
    if (response.allow) reply.header('Allow', response.allow.join(', '));
    // RFC 6750: a 401 names the scheme the caller should use.
    if (response.status === 401) reply.header('WWW-Authenticate', 'Bearer');
    // A 5xx is what a channel reports to the operator: the body names the request its log lines carry.
    void reply.status(response.status).send(response.status >= 500 ? { ...response.body, requestId: request.id } : response.body);
  }

  private responseFor(error: unknown, request: FastifyRequest): ErrorResponse {
    if (error instanceof RequestInvalid) return { status: 400, body: { error: 'validation-failed', details: error.details } };
    // Node tells a body that stopped arriving (the caller hung up, or was cut at
    // REQUEST_TIMEOUT_SECONDS) by ECONNRESET, as a driver tells a dropped database connection:
    // taken for the storage's, it warned on-call of an outage for a caller's network. The caller
    // is gone and reads no answer.
    if (isBodyCutShort(error, request)) return { status: 400, body: { error: 'validation-failed', details: [{ field: 'body', message: 'did not arrive in full' }] } };
    const failure = commandFailureOf(error);
    if (failure?.status === 503) this.outages?.refused(routeOf(request), failureClassesOf(error));
    if (failure) return failure;
    if (error instanceof ReadModelsBehind) {
      return {
        status: 503,
        body: { error: 'unavailable', message: 'the read models are behind the log; retry shortly' },
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      };
    }
    if (error instanceof HttpException) return this.httpResponseFor(error, request);
    const errorId = randomUUID();
    this.logger.error(`unexpected error ${errorId}`, error instanceof Error ? error.stack : String(error));
    return { status: 500, body: { error: 'internal-error', message: 'something went wrong on our side; nothing was changed by the failure itself', errorId } };
  }

  /** Framework errors: Fastify's body reading (too large, wrong media type), routing and auth. */
  private httpResponseFor(error: HttpException, request: FastifyRequest): ErrorResponse {
    const status = error.getStatus();
    const bodyLimit = request.routeOptions?.bodyLimit;
    const message = typeof error.getResponse() === 'string' ? (error.getResponse() as string) : error.message;
    switch (status) {
      case 400:
      case 413:
      case 415:
        return { status: 400, body: { error: 'validation-failed', details: [{ field: 'body', message: bodyProblem(status, bodyLimit) }] } };
      case 401:
        return { status: 401, body: { error: 'unauthorized' } };
      case 403:
        return { status: 403, body: { error: 'forbidden', message } };
      case 404: {
        const allow = methodsAnsweredAt(request);
        if (allow.length === 0 || allow.includes(request.method)) return { status: 404, body: { error: 'not-found', message: 'no such route' } };
        // Authentication comes first: the routes of a path (and that it exists) are for key holders.
        if (this.keys && !authenticatedClient(this.keys, request)) return { status: 401, body: { error: 'unauthorized' } };
        // RFC 9110 §15.5.6: a path that exists under other methods is a 405 naming them, not a 404.
        return { status: 405, body: { error: 'method-not-allowed', message: `this path answers ${allow.join(', ')} only` }, allow };
      }
      default:
        return status >= 500
          ? { status, body: { error: 'unavailable', message: 'the service cannot answer right now' }, retryAfterSeconds: RETRY_AFTER_SECONDS }
          : { status, body: { error: 'request-refused', message } };
    }
  }
}

/** The request's own stream failed while its body was being read: the error it was destroyed with. */
const isBodyCutShort = (error: unknown, request: FastifyRequest): boolean => error !== undefined && error !== null && error === request.raw.errored;

/**
 * The methods some registered route answers for the request's path, asked of the router itself.
 * A target that is not a path (`*`, `http://host/…`) is routed nowhere, whatever the method.
 */
function methodsAnsweredAt(request: FastifyRequest): string[] {
  const { server, url } = request;
  if (!url.startsWith('/')) return [];
  return server.supportedMethods.filter((method) => server.findRoute({ method: method as HTTPMethods, url }) !== null);
}

function bodyProblem(status: number, bodyLimit: number | undefined): string {
  if (status === 413) return bodyLimit ? `must be at most ${bodyLimit} bytes` : 'is too large';
  if (status === 415) return 'must be sent as application/json';
  return 'is not a request this service can read';
}
