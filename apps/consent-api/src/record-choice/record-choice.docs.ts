import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation } from '@nestjs/swagger';
import { LEDGER_COMMAND_TYPES } from '@consent-ledger/domain';
import { shapeOf } from '@consent-ledger/ledger-commands';
import { requestSchema } from '../http/request-schema';

export const RecordChoiceDocs = () =>
  applyDecorators(
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
      description: 'A retry with the same key and body gets the first answer and records nothing new; the same key with another body is a 409. Kept in clear with what it records: a key holding an e-mail address or phone number, a national register number written YY.MM.DD-SSS.CC or an IBAN (compact or in groups of four) is a 400.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
    }),
    ApiBody({
      schema: { oneOf: LEDGER_COMMAND_TYPES.map((type) => requestSchema(shapeOf(type).request, { type: { type: 'string', enum: [type] } })) },
    }),
  );
