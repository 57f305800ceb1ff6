import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import type { OpenAPIObject, OperationObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  BRANDS,
  CHANNELS,
  DATA_SOURCES,
  DECISION_REASONS,
  LEDGER_RULES,
  LEGAL_BASES,
  RELATIONSHIP_KINDS,
  RIGHTS_REQUEST_RULES,
  type RightsRequestRule,
  SEGMENTS,
} from '@consent-ledger/domain';
import { statusOfRule } from '../rights/rights-requests-intake';
import { eventRef, instant, RECORD_SCHEMAS, ref } from './record-schemas';
import { KEPT_REQUEST_ID, REQUEST_ID_HEADER } from './request-ids';
import { PSEUDONYMOUS_ID_SCHEMA, requestSchema } from './request-schema';

/**
 * Response bodies in OpenAPI, written from the same vocabulary lists the domain answers with (the
 * reasons, legal bases, channels): a name added there appears here. Bodies follow the domain's
 * types (`Decision`, `Preferences`) and the command path's answer.
 */
const decisionProperties: Record<string, SchemaObject> = {
  allowed: { type: 'boolean' },
  reason: { type: 'string', enum: [...DECISION_REASONS] },
  legalBasis: { type: 'string', enum: [...LEGAL_BASES] },
  basedOn: { type: 'array', items: eventRef, description: 'the events that decided the answer' },
  validUntil: { ...instant, nullable: true, description: 'when the answer stops holding on its own (a consent expiring); null: no known end' },
  channels: {
    type: 'array',
    items: { type: 'string', enum: [...CHANNELS] },
    description: 'asked without a channel, for a purpose that contacts people: the channels it may use now (consented, not restricted); empty when denied',
  },
};
const DECISION_REQUIRED = Object.keys(decisionProperties).filter((name) => name !== 'channels');
const scoped = (name: string, values: readonly string[]): SchemaObject => ({
  type: 'object',
  properties: {
    [name]: { type: 'string', enum: [...values] },
    purpose: { type: 'string', description: 'absent: every purpose' },
    since: { ...instant, description: 'when the person made it' },
  },
  required: [name, 'since'],
});

/** The request id as answered: the caller's own when well formed, otherwise a UUID the service made. */
const REQUEST_ID_SCHEMA: SchemaObject = { type: 'string', pattern: KEPT_REQUEST_ID.source, example: '3f0c9a52-6b1e-4d8a-9a43-0f2b7c1d5e88' };

/** Sent on every answer, whatever its status. */
const REQUEST_ID_ANSWERED = {
  description: "the caller's X-Request-Id when it was well formed, otherwise a new UUID; every log line written for the request carries it",
  schema: REQUEST_ID_SCHEMA,
};

/** Taken by every operation, never refused. */
const REQUEST_ID_SENT: ParameterObject = {
  name: REQUEST_ID_HEADER,
  in: 'header',
  required: false,
  description:
    'an id of your own for this request, to find its log lines by: 1 to 128 printable ASCII characters without a space, no e-mail address, phone number, national register number or IBAN in it. Any other value is replaced by a new UUID, never refused. It is written to the service log as sent: put no personal data in it.',
  schema: { type: 'string', pattern: KEPT_REQUEST_ID.source },
};

export const RESPONSE_SCHEMAS: Record<string, SchemaObject> = {
  Decision: {
    type: 'object',
    properties: {
      ...decisionProperties,
      // Not in the preferences' entries: they are built from the read models, which do not keep it.
      sources: {
        type: 'array',
        items: { type: 'string', enum: [...DATA_SOURCES] },
        description: 'asked without a source, for a purpose that draws on data sources: the sources it may use now (the purpose\'s, not opted out of); empty when denied',
      },
    },
    required: DECISION_REQUIRED,
  },
  Preferences: {
    type: 'object',
    properties: {
      at: instant,
      brand: { type: 'string', enum: [...BRANDS] },
      erased: { type: 'boolean' },
      relationships: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            brand: { type: 'string', enum: [...BRANDS] },
            relationship: { type: 'string', enum: [...RELATIONSHIP_KINDS] },
            segment: { type: 'string', enum: [...SEGMENTS] },
            status: { type: 'string', enum: ['active', 'former'] },
            since: instant,
          },
        },
      },
      purposes: {
        type: 'array',
        description: 'the decision for every purpose of the catalogue, in its order',
        items: { type: 'object', properties: { purpose: { type: 'string' }, ...decisionProperties }, required: ['purpose', ...DECISION_REQUIRED] },
      },
      objections: {
        type: 'array',
        items: {
          type: 'object',
          properties: { target: { type: 'string' }, status: { type: 'string', enum: ['in-force', 'pending-review', 'upheld', 'rejected'] }, since: instant },
        },
      },
      restrictedChannels: { type: 'array', items: scoped('channel', CHANNELS) },
      optedOutSources: { type: 'array', items: scoped('source', DATA_SOURCES) },
    },
    required: ['at', 'brand', 'erased', 'relationships', 'purposes', 'objections', 'restrictedChannels', 'optedOutSources'],
  },
  CommandRecorded: {
    type: 'object',
    properties: {
      subjectId: { type: 'string' },
      events: {
        type: 'array',
        description: 'empty (status 200) when the same statement was already recorded: the standing choice, made at the same instant (capture.occurredAt), bringing no evidence (capture.evidenceRef) it lacked',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            type: { type: 'string' },
            revision: { type: 'integer', minimum: 0 },
            supersededBy: {
              type: 'array',
              items: eventRef,
              description: 'later choices of the person that keep this one from standing (late paperwork): recorded as evidence, it counts only for the time before them',
            },
            expiresAt: {
              type: 'string',
              format: 'date-time',
              description: "ConsentGiven only, when it lapses by itself: the catalogue's validity from when it was given, or an earlier validUntil the person chose (a later one is cut back to the validity)",
            },
          },
          required: ['id', 'type', 'revision'],
        },
      },
      position: { type: 'string', nullable: true, description: 'global log position (decimal) of the last event' },
    },
    required: ['subjectId', 'events'],
  },
  AudienceDecisions: {
    type: 'object',
    properties: {
      allowed: { type: 'array', items: { type: 'string' } },
      denied: {
        type: 'array',
        items: { type: 'object', properties: { subjectId: { type: 'string' }, reason: { type: 'string', enum: [...DECISION_REASONS] } }, required: ['subjectId', 'reason'] },
      },
    },
    required: ['allowed', 'denied'],
  },
  ValidationFailed: {
    type: 'object',
    properties: {
      error: { type: 'string', enum: ['validation-failed'] },
      details: {
        type: 'array',
        items: {
          type: 'object',
          properties: { field: { type: 'string', example: 'capture.touchpoint' }, message: { type: 'string', example: 'must be one of myproximus-web, …' } },
          required: ['field', 'message'],
        },
      },
    },
    required: ['error', 'details'],
  },
  Refused: {
    type: 'object',
    description: '`error` names the refusal: a rule of the ledger or of a rights request (409, 422), not-found or unknown-request (404), idempotency-key-reused or concurrent-modification (409), forbidden (403)',
    properties: { error: { type: 'string' }, message: { type: 'string' } },
    required: ['error', 'message'],
  },
  Unavailable: {
    type: 'object',
    description: 'nothing was recorded; retry after Retry-After seconds. Quote requestId to the operator: every log line written for the request carries it',
    properties: { error: { type: 'string', enum: ['unavailable'] }, message: { type: 'string' }, requestId: REQUEST_ID_SCHEMA },
    required: ['error', 'message', 'requestId'],
  },
  Unauthorized: { type: 'object', properties: { error: { type: 'string', enum: ['unauthorized'] } }, required: ['error'] },
  InternalError: {
    type: 'object',
    description: 'a fault of ours; quote errorId or requestId to the operator: the service log holds the cause under both',
    properties: { error: { type: 'string', enum: ['internal-error'] }, message: { type: 'string' }, errorId: { type: 'string', format: 'uuid' }, requestId: REQUEST_ID_SCHEMA },
    required: ['error', 'message', 'errorId', 'requestId'],
  },
  ...RECORD_SCHEMAS,
};

const body = (schema: string, description: string, headers?: ResponseObject['headers']): ResponseObject => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
  ...(headers && { headers }),
});

/** /health's body: `status` alone without a key, the details with a valid one. */
const healthBody = (description: string, headers?: ResponseObject['headers']): ResponseObject => ({
  description: `${description}. Without a key, status alone (HealthStatus); with a valid API key of any scope, the details (Health)`,
  content: { 'application/json': { schema: { oneOf: [ref('HealthStatus'), ref('Health')] } } },
  ...(headers && { headers }),
});

/** The ledger's rules a command can break; an unknown purpose is already a 400 at the edge. */
export const RULES_ANSWERED_422 = Object.keys(LEDGER_RULES).filter((rule) => rule !== 'unknown-purpose');

const REPLAYED = { 'Idempotency-Replayed': { description: '`true` when this is the kept answer to an earlier call with the same key', schema: { type: 'string', enum: ['true'] } } };

/**
 * The rules each rights-request call can break, as `decideRightsRequest` checks them (`detail-too-long`
 * is refused at the edge first, a 400), answered with the status the intake gives each rule.
 */
const RIGHTS_RULES_OF_CALL: Record<'receive' | 'extend' | 'complete' | 'refuse', readonly RightsRequestRule[]> = {
  receive: ['request-already-received', 'received-in-the-future', 'received-before-2000'],
  extend: ['unknown-request', 'request-already-closed', 'extension-not-positive', 'extension-beyond-60-days', 'extension-after-initial-deadline'],
  complete: ['unknown-request', 'request-already-closed'],
  refuse: ['unknown-request', 'request-already-closed', 'request-already-refused'],
};

/** The refusals of a rights-request call by status, every one kept as the answer to its key; a key reused for another call is a 409 too. */
function rightsRefusals(call: keyof typeof RIGHTS_RULES_OF_CALL): Record<string, ResponseObject> {
  const byStatus = new Map<number, string[]>([[409, ['idempotency-key-reused: the key was used for another call (keys are shared with POST /v1/commands)']]]);
  for (const rule of RIGHTS_RULES_OF_CALL[call]) {
    byStatus.set(statusOfRule(rule), [...(byStatus.get(statusOfRule(rule)) ?? []), `${rule}: ${RIGHTS_REQUEST_RULES[rule]}`]);
  }
  return Object.fromEntries([...byStatus].map(([status, rules]) => [String(status), body('Refused', `error names the rule. ${rules.join('; ')}`, REPLAYED)]));
}

const rightsRequestChanged = (call: 'extend' | 'complete' | 'refuse', description: string): Record<string, ResponseObject> => ({
  '200': body('RightsRequest', description, REPLAYED),
  ...rightsRefusals(call),
});

/** Answers by route and method beyond the ones every route shares (added below): success bodies and route-specific refusals. */
const ANSWERS: Record<string, Record<string, Record<string, ResponseObject>>> = {
  '/v1/subjects/{subjectId}/decision': { get: { '200': body('Decision', 'the answer') } },
  '/v1/subjects/{subjectId}/preferences': { get: { '200': body('Preferences', 'what a preference centre shows') } },
  '/v1/decisions': { post: { '200': body('AudienceDecisions', 'every id once, allowed or denied with the reason') } },
  '/v1/commands': {
    post: {
      '201': body('CommandRecorded', 'recorded, with the new events', REPLAYED),
      '200': body(
        'CommandRecorded',
        'the same statement delivered again (the standing choice, at the same instant capture.occurredAt): nothing new recorded; a repeat made earlier or later, or bringing a capture.evidenceRef the standing choice lacked, is recorded (201)',
        REPLAYED,
      ),
      '409': body('Refused', 'idempotency-key-reused, or concurrent-modification (another writer kept winning for 10 s)'),
      '422': body('Refused', `a rule of the ledger, named in error: ${RULES_ANSWERED_422.join(', ')}`, REPLAYED),
    },
  },
  '/v1/purposes': { get: { '200': body('Catalogue', 'the purpose catalogue the service decides with') } },
  '/v1/subjects/{subjectId}/history': {
    get: { '200': body('SubjectHistory', 'every event of the subject, oldest first; empty for an unknown subject, with removals once proof retention removed its record') },
  },
  '/v1/subjects/{subjectId}/receipts': { get: { '200': body('ConsentReceipts', "the receipt of every choice in the subject's ledger; none for an unknown subject") } },
  '/v1/subjects/{subjectId}/receipts/{eventId}': {
    get: {
      '200': body('IssuedConsentReceipt', 'the receipt of the recorded choice, as issued at issuedAt'),
      '404': body('Refused', "not-found: the subject's ledger holds no event with this id"),
    },
  },
  '/v1/subjects/{subjectId}/export': { get: { '200': body('SubjectExport', 'everything held about the subject (access, portability)') } },
  '/v1/subjects/{subjectId}/timeline': { get: { '200': body('Timeline', 'each event in the order recorded, with the decisions it touched as chosen and as known then') } },
  '/v1/rights-requests': {
    post: {
      '201': body('RightsRequest', 'received: the request with its due date (30 days after receipt)', REPLAYED),
      '200': body('RightsRequest', 'the same request entered again (same requestId, subject, kind, touchpoint and receipt): nothing new recorded', REPLAYED),
      ...rightsRefusals('receive'),
    },
    get: { '200': body('RightsRequests', 'the requests, by receipt; with dueWithin the open ones falling due, most urgent first') },
  },
  '/v1/rights-requests/{requestId}': {
    get: {
      '200': body('RightsRequest', 'the request as it stands'),
      '404': body('Refused', 'not-found: no rights request with this id was received'),
    },
  },
  '/v1/rights-requests/{requestId}/extend': { post: rightsRequestChanged('extend', 'extended: the request with its new due date') },
  '/v1/rights-requests/{requestId}/complete': { post: rightsRequestChanged('complete', 'completed (or already completed: nothing new recorded), saying whether on time') },
  '/v1/rights-requests/{requestId}/refuse': { post: rightsRequestChanged('refuse', 'refused on the ground given (or already refused on it: nothing new recorded)') },
  '/v1/proof-retention/runs': {
    post: { '200': body('ProofRetentionRun', 'the run: records removed and keys destroyed (none in a dry run), failures left for the next run') },
    get: { '200': body('ProofRetentionRuns', 'every recorded run, oldest first') },
  },
  '/health': {
    get: {
      '200': healthBody('ready: the event store takes commands'),
      '503': healthBody('unavailable: the event store does not take commands (the service is live: it answered)', { 'Retry-After': { schema: { type: 'integer' } } }),
    },
  },
};

/**
 * Routes that ignore query parameters instead of refusing them: load balancers and monitors add
 * cache-busters to health checks. Every other route answers 400 for a parameter it does not take.
 */
const IGNORES_QUERY_PARAMETERS = new Set(['/health']);

/** The ids a path carries, as the service checks them (`pseudonymousPathId`, the receipt's event id). */
const PATH_ID_SCHEMAS: Record<string, SchemaObject> = {
  subjectId: { ...PSEUDONYMOUS_ID_SCHEMA, example: 'cust-4711' },
  requestId: { ...PSEUDONYMOUS_ID_SCHEMA, example: 'ticket-2024-0042' },
  eventId: { type: 'string', format: 'uuid', description: 'the id of an event of the subject, as in its history' },
};

/**
 * Adds to every operation the answers the service gives whatever the route: 400 on every route
 * that refuses unknown query parameters, 401 and 403 where a key is needed (with
 * `WWW-Authenticate`), 503 with `Retry-After`; and the answers above. Nest's decorators document only what each
 * controller names, which left the error answers out of the document. Every operation takes an
 * `X-Request-Id` and every answer carries one.
 */
export function withResponses(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...RESPONSE_SCHEMAS } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation: OperationObject | undefined = item[method];
      if (!operation) continue;
      // The path's ids are checked like the body's: declared bare, a generated client sent any text.
      for (const parameter of operation.parameters ?? []) {
        if ('in' in parameter && parameter.in === 'path' && PATH_ID_SCHEMAS[parameter.name]) parameter.schema = { ...PATH_ID_SCHEMAS[parameter.name] };
      }
      const responses = { ...operation.responses, ...ANSWERS[path]?.[method] };
      if (!IGNORES_QUERY_PARAMETERS.has(path)) {
        responses['400'] = body('ValidationFailed', 'the request is not understood (a query parameter the route does not take, a malformed body); nothing was recorded');
      }
      if (isKeyOptional(operation)) {
        responses['401'] = body('Unauthorized', 'a key was sent and it is not a valid API key (send none, or a valid one)', WWW_AUTHENTICATE);
      } else if (operation.security?.length) {
        // Where a client's operator finds which scope to ask for its key: only OAuth schemes carry scopes in OpenAPI 3.0.
        const scopes: readonly string[] | undefined = (operation as { 'x-scopes'?: string[] })['x-scopes'];
        const needs = !scopes ? 'Needs any valid API key.' : scopes.length === 1 ? `Needs the scope ${scopes[0]}.` : `Needs one of the scopes ${scopes.join(', ')}.`;
        operation.description = operation.description ? `${needs} ${operation.description}` : needs;
        responses['401'] = body('Unauthorized', 'no valid API key', WWW_AUTHENTICATE);
        responses['403'] = body('Refused', 'the key lacks the scope, or is bound to other touchpoints');
      }
      responses['503'] ??= body('Unavailable', 'storage unavailable or not answering in time, the read models behind, or the service shutting down; nothing was recorded, unless the message says a command may have been (a retry with the same Idempotency-Key records it once)', {
        'Retry-After': { schema: { type: 'integer' } },
      });
      // Any route can answer these two; undeclared, a generated client could not read the errorId to quote.
      responses['408'] ??= body('ValidationFailed', 'the request did not arrive within REQUEST_TIMEOUT_SECONDS (field "body"); nothing was recorded, the connection is closed');
      responses['500'] ??= body('InternalError', 'a fault of ours; nothing was changed by the failure itself');
      // Copies: answers such as REPLAYED's share their headers object between routes.
      for (const [status, response] of Object.entries(responses)) {
        if (response && 'description' in response) responses[status] = { ...response, headers: { ...response.headers, [REQUEST_ID_HEADER]: REQUEST_ID_ANSWERED } };
      }
      operation.parameters = [...(operation.parameters ?? []), REQUEST_ID_SENT];
      operation.responses = responses;
    }
  }
  return document;
}

const WWW_AUTHENTICATE: ResponseObject['headers'] = { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } };

/** A `KeyOptional` route: OpenAPI's empty requirement `{}` beside the bearer key says a key may be left out. */
const isKeyOptional = (operation: OperationObject): boolean => operation.security?.some((requirement) => Object.keys(requirement).length === 0) ?? false;

/** Query parameters documented from the request class that validates them (names, enums, formats, required). */
export function ApiQueriesFrom(requestClass: Function, descriptions: Record<string, string> = {}): MethodDecorator {
  const schema = requestSchema(requestClass);
  const required = new Set(schema.required ?? []);
  return applyDecorators(
    ...Object.entries(schema.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: required.has(name), schema: property as SchemaObject, ...(descriptions[name] && { description: descriptions[name] }) }),
    ),
  );
}
