import type { Catalogue } from '@consent-ledger/domain';
import { type FieldProblem, pseudonymousIdProblem, screenJson, validateRequest } from '@consent-ledger/ledger-commands';

/** A request refused before anything was read or recorded: answered 400 `validation-failed`. */
export class RequestInvalid extends Error {
  constructor(readonly details: readonly FieldProblem[]) {
    super(details.map(({ field, message }) => `${field} ${message}`).join('; '));
    this.name = 'RequestInvalid';
  }
}

/** The body limit already bounds size; an audience question holds up to 10,000 ids. */
const NAMES_ONLY = { maxDepth: 8, maxValues: Number.POSITIVE_INFINITY };

/**
 * Validates query parameters or a body against a request class, or throws RequestInvalid. Query
 * parameters reach here unscreened: one named `__proto__` or `constructor` would be dropped on the
 * way to the class instance instead of being refused as unknown.
 */
export function validOrThrow<T extends object>(requestClass: new () => T, json: unknown): T {
  const unscreenable = screenJson(json ?? {}, NAMES_ONLY);
  if (unscreenable.length > 0) throw new RequestInvalid(unscreenable);
  const validated = validateRequest(requestClass, json ?? {});
  if (validated.errors) throw new RequestInvalid(validated.errors);
  return validated.value;
}

/** The `{id}` of `/v1/subjects/{id}/…`: a pseudonymous id, like `subjectId` in commands. */
export function subjectIdOrThrow(id: string): string {
  const problem = pseudonymousIdProblem(id);
  if (problem) throw new RequestInvalid([{ field: 'subjectId', message: problem }]);
  return id;
}

/** A question about a purpose the catalogue does not have is not understood: 400, like in commands. */
export function purposeOrThrow(catalogue: Catalogue, purpose: string): string {
  if (!catalogue.purposes.has(purpose)) {
    throw new RequestInvalid([{ field: 'purpose', message: `is not a purpose of the catalogue (got ${JSON.stringify(purpose)})` }]);
  }
  return purpose;
}
