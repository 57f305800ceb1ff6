import {
  type Catalogue,
  type CommandCapture,
  earliest,
  type Instant,
  isOneOf,
  LEDGER_COMMAND_TYPES,
  type LedgerCommand,
  type LedgerCommandType,
  MAX_CLOCK_SKEW_MS,
  REPRESENTATIVE_ROLES,
  type SubjectId,
  toInstant,
} from '@consent-ledger/domain';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import type { CommandRequest } from './command-request';
import { shapeOf } from './command-shapes';
import { describeRefusedName } from './request-fields';
import { type FieldProblem, isJsonObject, screenJson, validateRequest, type Validated } from './request-validation';

/** Before any choice this ledger records: an instant earlier is a device clock that was reset (to 1970). */
export const EARLIEST_OCCURRED_AT = '2000-01-01T00:00:00Z';

export const DEFAULT_BRAND = 'proximus';

export interface CommandCheckContext {
  readonly catalogue: Catalogue;
  /** The edge's clock: the limit for `occurredAt`. */
  readonly now: Instant;
}

/** A command request whose shape, vocabulary and purposes are known good; nothing is sealed yet. */
export interface CheckedCommandRequest {
  readonly type: LedgerCommandType;
  readonly request: CommandRequest;
}

const isCommandType = isOneOf(LEDGER_COMMAND_TYPES);

/**
 * Checks a command's JSON exactly as `POST /v1/commands` and the Kafka intake receive it: shape,
 * vocabulary, purposes of the catalogue, and instants. Pure apart from the catalogue it is given.
 */
export function checkCommandRequest(json: unknown, { catalogue, now }: CommandCheckContext): Validated<CheckedCommandRequest> {
  const screened = screenJson(json);
  if (screened.length > 0) return { errors: screened };
  if (!isJsonObject(json)) return { errors: [{ field: 'body', message: 'must be a JSON object' }] };
  if (!isCommandType(json.type)) {
    return { errors: [{ field: 'type', message: `must be one of ${LEDGER_COMMAND_TYPES.join(', ')}` }] };
  }
  const shape = shapeOf(json.type);
  const validated = validateRequest(shape.request, json);
  if (validated.errors) return validated;

  const request = validated.value;
  const problems: FieldProblem[] = [];
  const purposeRule = shape.purpose;
  if (purposeRule) {
    const purpose = (request as unknown as Record<string, unknown>)[purposeRule.field];
    if (typeof purpose === 'string') {
      const isKnown = catalogue.purposes.has(purpose) || (purposeRule.accepts === 'purpose-or-group' && catalogue.groups.has(purpose));
      if (!isKnown) {
        problems.push({
          field: purposeRule.field,
          message: `is not a ${purposeRule.accepts === 'purpose' ? 'purpose' : 'purpose or purpose group'} of the catalogue (got ${describeRefusedName(purpose)})`,
        });
      }
    }
  }
  problems.push(...actorProblems(request.capture.actor));
  // Channels stamp `occurredAt` with their own clocks (see MAX_CLOCK_SKEW_MS).
  const occurredAt = request.capture.occurredAt;
  if (occurredAt !== undefined && Date.parse(toInstant(occurredAt)!) > Date.parse(now) + MAX_CLOCK_SKEW_MS) {
    problems.push({ field: 'capture.occurredAt', message: `must not be more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of the server clock` });
  }
  if (occurredAt !== undefined && Date.parse(toInstant(occurredAt)!) < Date.parse(EARLIEST_OCCURRED_AT)) {
    problems.push({ field: 'capture.occurredAt', message: `must not be before ${EARLIEST_OCCURRED_AT}: a device clock that was reset reads 1970` });
  }
  return problems.length > 0 ? { errors: problems } : { value: { type: json.type, request } };
}

/**
 * The proof names who entered a choice and in what capacity: an agent by a pseudonymous staff
 * number (a call-centre consent with no agent is not evidence of who took it), a representative by
 * the role they acted in (a parent, a guardian). A role belongs to representatives only.
 */
function actorProblems(actor: { readonly kind: string; readonly id?: string; readonly role?: string }): FieldProblem[] {
  if (actor.kind === 'agent' && actor.id === undefined) {
    return [{ field: 'capture.actor.id', message: 'is required for an agent: the pseudonymous staff number of who entered the choice' }];
  }
  if (actor.kind === 'representative' && actor.role === undefined) {
    return [{ field: 'capture.actor.role', message: `is required for a representative: one of ${REPRESENTATIVE_ROLES.join(', ')}` }];
  }
  if (actor.kind !== 'representative' && actor.role !== undefined) {
    return [{ field: 'capture.actor.role', message: 'is only for a representative (actor kind "representative")' }];
  }
  return [];
}

export interface CommandBuildContext {
  readonly vault: Pick<PersonalDataVault, 'seal'>;
  /** Becomes `recordedAt`, and `occurredAt` when the channel gave none. */
  readonly now: Instant;
  readonly idempotencyKey: string;
}

/**
 * Turns a checked request into the domain command: personal data sealed with the subject's key,
 * `recordedAt` from the edge clock, `occurredAt` normalised (default: now, and never after now),
 * brand defaulted.
 */
export async function toLedgerCommand({ type, request }: CheckedCommandRequest, { vault, now, idempotencyKey }: CommandBuildContext): Promise<LedgerCommand> {
  const subjectId = request.subjectId as SubjectId;
  const seal = (plaintext: string) => vault.seal(subjectId, plaintext);
  const { touchpoint, actor, occurredAt, noticeVersion, locale, evidenceRef } = request.capture;
  const stated = occurredAt === undefined ? undefined : toInstant(occurredAt)!;
  const shape = shapeOf(type);
  const effective = stated === undefined || shape.datedOnArrival ? now : earliest(stated, now)!;
  const capture: CommandCapture = {
    touchpoint,
    actor: { kind: actor.kind, ...(actor.id !== undefined && { id: actor.id }), ...(actor.role !== undefined && { role: actor.role }) },
    // A channel clock running a little ahead cannot date a choice after the ledger received it: a
    // choice dated later than the commands acknowledged after it would outrank them, and decisions
    // asked now would not see it yet.
    // What the channel stated is kept as evidence, and tells a redelivery from a new choice.
    occurredAt: effective,
    recordedAt: now,
    ...(stated !== undefined && stated !== effective && { statedAt: stated }),
    idempotencyKey,
    ...(noticeVersion !== undefined && { noticeVersion }),
    ...(locale !== undefined && { locale }),
    ...(evidenceRef !== undefined && { evidenceRef: await seal(evidenceRef) }),
  };
  const data = await shape.dataOf(request, seal);
  return { type, subjectId, brand: request.brand ?? DEFAULT_BRAND, capture, data } as LedgerCommand;
}

export type ParsedCommand = { readonly command: LedgerCommand; readonly errors?: undefined } | { readonly command?: undefined; readonly errors: readonly FieldProblem[] };

/** `checkCommandRequest` then `toLedgerCommand`: what a transport without its own checks in between needs. */
export async function parseCommandRequest(json: unknown, context: CommandCheckContext & CommandBuildContext): Promise<ParsedCommand> {
  const checked = checkCommandRequest(json, context);
  if (checked.errors) return { errors: checked.errors };
  return { command: await toLedgerCommand(checked.value, context) };
}
