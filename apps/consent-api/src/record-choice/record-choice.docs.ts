import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { LEDGER_COMMAND_TYPES } from '@consent-ledger/domain';
import { shapeOf } from '@consent-ledger/ledger-commands';
import { RULES_ANSWERED_422 } from '../http/api-schemas';
import { requestSchema } from '../http/request-schema';

const handledCommand = {
  type: 'object',
  properties: {
    subjectId: { type: 'string' },
    events: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, type: { type: 'string' }, revision: { type: 'integer' } } },
    },
    position: { type: 'string', nullable: true, description: 'global log position (decimal) of the last event' },
  },
};

const REPLAYED = { 'Idempotency-Replayed': { description: '`true` when this is the first answer to the same key, given again', schema: { type: 'string', enum: ['true'] } } };

export const RecordChoiceDocs = () =>
  applyDecorators(
    ApiTags('commands'),
    ApiBearerAuth(),
    ApiOperation({
      summary: 'Record a choice (one command)',
      description:
        'StartRelationship and EndRelationship need the scope relationships:write, ReviewObjection objections:review, ' +
        'EraseSubject subjects:erase, every other command commands:write. ' +
        'A key bound to touchpoints records choices for those touchpoints only. `capture.occurredAt` defaults to now and may ' +
        'be at most 5 minutes in the future; `brand` defaults to proximus. Contact details, evidenceRef and justifications ' +
        'are sealed with the subject key before they are recorded.',
    }),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'A retry with the same key and body gets the first answer and records nothing new; the same key with another body is a 409.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
    }),
    ApiBody({
      schema: { oneOf: LEDGER_COMMAND_TYPES.map((type) => requestSchema(shapeOf(type).request, { type: { type: 'string', enum: [type] } })) },
    }),
    ApiResponse({ status: 201, description: 'Recorded: the new events', schema: handledCommand, headers: REPLAYED }),
    ApiResponse({ status: 200, description: 'The same statement delivered again: nothing new recorded (`events: []`)', schema: handledCommand, headers: REPLAYED }),
    ApiResponse({ status: 400, description: 'validation-failed, with { field, message } details; nothing recorded' }),
    ApiResponse({ status: 409, description: 'idempotency-key-reused, or concurrent-modification' }),
    ApiResponse({ status: 422, description: `A rule of the ledger: ${RULES_ANSWERED_422.join(', ')}` }),
    ApiResponse({ status: 503, description: 'Storage unavailable; retry after Retry-After seconds' }),
  );
