import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Catalogue } from '@consent-ledger/domain';
import { describeRefusedName, type FieldProblem, fieldNameForMessage, pseudonymousIdProblem, screenJson, validateRequest } from '@consent-ledger/ledger-commands';

/** A request refused before anything was read or recorded: answered 400 `validation-failed`. */
export class RequestInvalid extends Error {
  constructor(readonly details: readonly FieldProblem[]) {
    super(details.map(({ field, message }) => `${field} ${message}`).join('; '));
    this.name = 'RequestInvalid';
  }
}

/**
 * For a route that takes no query parameters: one is refused like an unknown field of a body, as
 * the routes that take parameters do, instead of being ignored (a mistyped question answered as if
 * it had been asked right).
 */
export const NoQueryParameters = createParamDecorator((_: unknown, context: ExecutionContext): void => {
  const names = Object.keys(context.switchToHttp().getRequest<{ query?: object }>().query ?? {});
  if (names.length > 0) throw new RequestInvalid(names.map((name) => ({ field: fieldNameForMessage(name), message: 'is not a known field' })));
});

/** The deepest any route's body may be (an audience question needs 3, a command 6); checked before parsing. */
export const MAX_BODY_DEPTH = 8;

/** The body limit already bounds size; an audience question holds up to 10,000 ids. */
const NAMES_ONLY = { maxDepth: MAX_BODY_DEPTH, maxValues: Number.POSITIVE_INFINITY };

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

const REMEMBERED_QUERIES_PER_CLASS = 1_000;
const rememberedQueries = new WeakMap<object, Map<string, object>>();

/**
 * `validOrThrow` for the query parameters of a hot question. Callers repeat a few parameter sets
 * (a purpose and a channel) thousands of times a second, and class-validator cost ~27 µs of a
 * decision's ~240 µs. Validation is a pure function of the parameters, so valid sets are
 * remembered, up to a bound per request class; the value is frozen because requests share it.
 */
export function validQueryOrThrow<T extends object>(requestClass: new () => T, query: unknown): Readonly<T> {
  const key = JSON.stringify(query ?? {});
  let remembered = rememberedQueries.get(requestClass);
  if (!remembered) rememberedQueries.set(requestClass, (remembered = new Map()));
  const known = remembered.get(key);
  if (known) return known as T;
  const value = Object.freeze(validOrThrow(requestClass, query));
  if (remembered.size >= REMEMBERED_QUERIES_PER_CLASS) remembered.clear();
  remembered.set(key, value);
  return value;
}

/**
 * The `{id}` of `/v1/subjects/{id}/…`: a pseudonymous id, like `subjectId` in commands. These are
 * questions, which record nothing: a subject recorded under a national register number before such
 * ids were refused stays reachable, for its history and export (an access request) above all.
 */
export const subjectIdOrThrow = (id: string): string => pseudonymousPathId('subjectId', id);

/** A pseudonymous id in a path (`field` as the body names it), checked as `subjectIdOrThrow` checks a subject's. */
export function pseudonymousPathId(field: string, id: string): string {
  const problem = pseudonymousIdProblem(id, 'reachable');
  if (problem) throw new RequestInvalid([{ field, message: problem }]);
  return id;
}

/** A question about a purpose the catalogue does not have is not understood: 400, like in commands. */
export function purposeOrThrow(catalogue: Catalogue, purpose: string): string {
  if (!catalogue.purposes.has(purpose)) {
    throw new RequestInvalid([{ field: 'purpose', message: `is not a purpose of the catalogue (got ${describeRefusedName(purpose)})` }]);
  }
  return purpose;
}
