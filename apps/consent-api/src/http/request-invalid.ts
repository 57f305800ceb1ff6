import type { Catalogue } from '@consent-ledger/domain';
import { type FieldProblem, pseudonymousIdProblem, validateRequest } from '@consent-ledger/ledger-commands';

/** A request refused before anything was read or recorded: answered 400 `validation-failed`. */
export class RequestInvalid extends Error {
  constructor(readonly details: readonly FieldProblem[]) {
    super(details.map(({ field, message }) => `${field} ${message}`).join('; '));
    this.name = 'RequestInvalid';
  }
}

/** Validates query parameters or a body against a request class, or throws RequestInvalid. */
export function validOrThrow<T extends object>(requestClass: new () => T, json: unknown): T {
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
