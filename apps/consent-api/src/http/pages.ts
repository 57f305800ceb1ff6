import { ValidateBy } from 'class-validator';
import { RequestInvalid } from './request-invalid';

/** The rule names `requestSchema` documents: `limit` as a bounded integer with its default, `after` as an opaque cursor. */
export const PAGE_RULES = { limit: 'isPageLimit', cursor: 'isPageCursor' } as const;

/**
 * Cursors are short (a list's name, a position, or a deadline and a request id); anything longer
 * was not given by us. The longest is the due-soon list's: its name, a deadline and a ticket id of
 * up to 128 characters, some 300 characters once encoded (256 refused the cursor of a page ending
 * on a long ticket id, found in review).
 */
export const MAX_CURSOR_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * `limit` as query parameters carry it: decimal digits, from 1 to `max`. Query values arrive as
 * text; a value such as `1e3`, `10.0` or ` 5` is refused rather than read loosely.
 */
export function IsPageLimit({ max, byDefault }: { max: number; byDefault: number }): PropertyDecorator {
  return ValidateBy({
    name: PAGE_RULES.limit,
    constraints: [max, byDefault],
    validator: {
      validate: (value) => typeof value === 'string' && /^[1-9]\d{0,6}$/.test(value) && Number(value) <= max,
      defaultMessage: () => `must be a whole number from 1 to ${max}, the most items one page holds (${byDefault} when left out)`,
    },
  });
}

/** `after` as query parameters carry it; what it holds is checked by the list it continues (`readCursor`). */
export function IsPageCursor(): PropertyDecorator {
  return ValidateBy({
    name: PAGE_RULES.cursor,
    validator: {
      validate: (value) => typeof value === 'string' && value.length <= MAX_CURSOR_LENGTH && BASE64URL.test(value),
      defaultMessage: () => NOT_OUR_CURSOR,
    },
  });
}

const NOT_OUR_CURSOR = 'is not a cursor this list gave: pass the "next" of the page before, unchanged';

/**
 * Where a page ended, for the list to continue after it. Opaque to clients (base64url JSON), so a
 * list can change what it keeps without breaking them; `list` names the list and the question
 * asked, so a cursor is never read by another list, or by the same list asked another question.
 */
export function cursorOf(list: string, position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ list, ...position })).toString('base64url');
}

/**
 * The position a cursor holds, when it is one `cursorOf(list, …)` gave; otherwise 400 naming
 * `after`. `readPosition` returns undefined for a position of the wrong shape.
 */
export function readCursor<Position>(after: string, list: string, readPosition: (fields: Record<string, unknown>) => Position | undefined): Position {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw new RequestInvalid([{ field: 'after', message: NOT_OUR_CURSOR }]);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new RequestInvalid([{ field: 'after', message: NOT_OUR_CURSOR }]);
  const { list: itsList, ...rest } = fields as Record<string, unknown>;
  if (typeof itsList !== 'string') throw new RequestInvalid([{ field: 'after', message: NOT_OUR_CURSOR }]);
  if (itsList !== list) {
    throw new RequestInvalid([{ field: 'after', message: 'continues another list, or this list asked with other parameters: ask each next page with the parameters of the first' }]);
  }
  const position = readPosition(rest);
  if (position === undefined) throw new RequestInvalid([{ field: 'after', message: NOT_OUR_CURSOR }]);
  return position;
}
