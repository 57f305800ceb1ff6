import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { rememberValidationRules } from './validation-metadata';
import { fieldNameForMessage } from './field-names';

rememberValidationRules();

/** One reason a request was refused, at a JSON path such as `capture.touchpoint` or `channels[1]`. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type Validated<T> = { readonly value: T; readonly errors?: undefined } | { readonly errors: readonly FieldProblem[] };

/** The whole body, when the problem is not one field's. */
export const BODY = 'body';

/**
 * Keys that rebind an object's prototype when copied onto a class instance. HTTP refuses them while
 * parsing; a Kafka message parsed with JSON.parse keeps them as own properties, so check here too.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface ShapeLimits {
  /** Objects and lists inside objects and lists; our deepest request needs 3. */
  readonly maxDepth: number;
  /** Values in the whole document, so a flat but huge list cannot stall validation. */
  readonly maxValues: number;
}

export const COMMAND_SHAPE_LIMITS: ShapeLimits = { maxDepth: 6, maxValues: 2_000 };

export const nestedTooDeeply = (maxDepth: number): string => `is nested too deeply (at most ${maxDepth} levels)`;

/** Half of a UTF-16 surrogate pair on its own: JSON can spell it, PostgreSQL's json refuses it. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Screens parsed JSON before any class is built from it: nesting, size, prototype-polluting keys
 * and text that is not valid Unicode. Iterative, so a hostile document cannot exhaust the stack.
 */
export function screenJson(json: unknown, limits: ShapeLimits = COMMAND_SHAPE_LIMITS): FieldProblem[] {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: json, path: '', depth: 0 }];
  let values = 0;
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    values += 1;
    if (values > limits.maxValues) return [{ field: BODY, message: `must hold at most ${limits.maxValues} values` }];
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) return [{ field: path || BODY, message: 'must be valid Unicode text (it holds half of a surrogate pair)' }];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limits.maxDepth) return [{ field: path || BODY, message: nestedTooDeeply(limits.maxDepth) }];
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(value)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key) || LONE_SURROGATE.test(key)) return [{ field, message: 'is not an allowed field name' }];
      pending.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return [];
}

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates a parsed JSON object against a class-validator request class: unknown fields are
 * refused, every field reports its first problem, nested paths read `capture.actor.kind`.
 * Call `screenJson` first on untrusted input.
 */
export function validateRequest<T extends object>(requestClass: new () => T, json: unknown): Validated<T> {
  if (!isJsonObject(json)) return { errors: [{ field: BODY, message: 'must be a JSON object' }] };
  const request = plainToInstance(requestClass, json);
  const errors = validateSync(request, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
  return errors.length === 0 ? { value: request } : { errors: errors.flatMap((error) => problemsOf(error, '')) };
}

function problemsOf(error: ValidationError, parent: string): FieldProblem[] {
  const name = fieldNameForMessage(error.property);
  // An item of a list (at most 10,000 long); a longer run of digits is a key, maybe a phone number.
  const field = /^\d{1,5}$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${name}` : name;
  const messages = Object.entries(error.constraints ?? {});
  if (messages.length > 0) {
    const [constraint, message] = messages.find(([name]) => name !== 'nestedValidation') ?? messages[0];
    if (constraint === 'whitelistValidation') return [{ field, message: 'is not a known field' }];
    if (constraint === 'nestedValidation') return [{ field, message: 'must be an object' }];
    // A list rule reports each bad item as "[index] message", one per line: move the index into the path.
    const items = message.split('\n').map((line) => /^\[(\d+)\] (.*)$/s.exec(line));
    if (items.every((item) => item !== null)) return items.map((item) => ({ field: `${field}[${item![1]}]`, message: item![2] }));
    return [{ field, message }];
  }
  return (error.children ?? []).flatMap((child) => problemsOf(child, field));
}
