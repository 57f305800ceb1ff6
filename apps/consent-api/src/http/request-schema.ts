import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FIELD_RULES } from '@consent-ledger/ledger-commands';
import { getMetadataStorage } from 'class-validator';
import { MAX_CURSOR_LENGTH, PAGE_RULES } from './pages';

/** A subject id wherever it is sent: in a body, a query or the path. */
export const PSEUDONYMOUS_ID_SCHEMA: SchemaObject = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  description: 'pseudonymous id: never an e-mail address, phone number, national register number or IBAN',
};

/**
 * The OpenAPI schema of a request class, read from its class-validator rules: the documentation
 * is generated from what is validated, so the two cannot disagree.
 */
export function requestSchema(requestClass: Function, fixed: Record<string, SchemaObject> = {}): SchemaObject {
  const rules = getMetadataStorage().getTargetValidationMetadatas(requestClass, '', true, false);
  const properties: Record<string, SchemaObject> = {};
  const optional = new Set<string>();
  for (const rule of rules) {
    if (rule.type === 'conditionalValidation') optional.add(rule.propertyName);
    const schema = schemaOfRule(rule.name, rule.constraints ?? []);
    if (schema && rule.propertyName in EXAMPLES) schema.example = EXAMPLES[rule.propertyName];
    if (schema) properties[rule.propertyName] = fixed[rule.propertyName] ?? schema;
  }
  const required = Object.keys(properties).filter((name) => !optional.has(name));
  // OpenAPI 3.0 wants a non-empty `required` list, or none.
  return { type: 'object', properties, ...(required.length > 0 && { required }), additionalProperties: false };
}

/**
 * Examples a request built from the document is accepted with. A consent's end must come after the
 * instant it was given: with the one example for both, such a request was refused (found in review).
 */
const EXAMPLES: Record<string, unknown> = {
  validUntil: '2027-05-01T09:00:00Z',
  subjectId: 'cust-4711',
  handledBy: 'agent-0042',
  requestId: 'ticket-2024-0042',
  byDays: 30,
  dueWithin: 'P7D',
  limit: 50,
};

function schemaOfRule(name: string | undefined, constraints: unknown[]): SchemaObject | undefined {
  switch (name) {
    case FIELD_RULES.oneOf:
      return { type: 'string', enum: [...(constraints[0] as string[])] };
    case FIELD_RULES.listOf:
      return { type: 'array', items: { type: 'string', enum: [...(constraints[0] as string[])] }, minItems: 1, maxItems: constraints[1] as number, uniqueItems: true };
    case FIELD_RULES.ids:
      return { type: 'array', items: { ...PSEUDONYMOUS_ID_SCHEMA }, minItems: 1, maxItems: constraints[0] as number };
    case FIELD_RULES.instant:
      return { type: 'string', format: 'date-time', maxLength: constraints[0] as number, example: '2024-05-01T09:00:00Z' };
    case FIELD_RULES.text:
      // Blank text says nothing and is refused: at least one character that is not a space.
      return { type: 'string', minLength: 1, maxLength: constraints[0] as number, pattern: '\\S' };
    case FIELD_RULES.pseudonymousId:
      // A copy: each field sets its own example on it.
      return { ...PSEUDONYMOUS_ID_SCHEMA };
    case FIELD_RULES.locale:
      return { type: 'string', pattern: (constraints[0] as RegExp).source, example: 'fr-BE' };
    case FIELD_RULES.email:
      return { type: 'string', format: 'email', maxLength: constraints[0] as number };
    case FIELD_RULES.phone:
      return { type: 'string', pattern: (constraints[0] as RegExp).source, example: '+32 475 12 34 56' };
    case FIELD_RULES.nested:
      return { ...requestSchema((constraints[0] as () => Function)()), ...(constraints[1] === true && { minProperties: 1 }) };
    // class-validator's own rules, where a request class uses them (rights requests, proof retention).
    case 'isIn':
      return { type: 'string', enum: [...(constraints[0] as string[])] };
    case 'isInt':
      return { type: 'integer' };
    case 'isBoolean':
      return { type: 'boolean' };
    case PAGE_RULES.limit:
      return { type: 'integer', minimum: 1, maximum: constraints[0] as number, default: constraints[1] as number };
    case PAGE_RULES.cursor:
      return { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: MAX_CURSOR_LENGTH, description: 'the next of the page before, unchanged' };
    case 'matches':
      return { type: 'string', pattern: (constraints[0] as RegExp).source };
    default:
      return undefined;
  }
}
