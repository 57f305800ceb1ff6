import type { ListStreamNamesOptions } from './event-store.port';

/**
 * The names a page of `listStreamNames` may hold, as bounds on the stream-name key: greater than
 * `after` (when given), at least `prefix`, and less than `before` (absent when no name sorts after
 * every name with the prefix, e.g. for the prefix ''). Bounds, not a `LIKE 'prefix%'`, because an
 * index walks a range from its first key and stops at the last; a pattern is checked row by row.
 */
export interface StreamNameRange {
  readonly prefix: string;
  readonly after?: string;
  readonly before?: string;
  readonly limit: number;
}

export function toStreamNameRange(options: ListStreamNamesOptions): StreamNameRange {
  const { prefix, after, limit } = options ?? ({} as ListStreamNamesOptions);
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string (\'\' for every stream)');
  if (after !== undefined && typeof after !== 'string') throw new TypeError('after must be a stream name');
  if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new TypeError(`limit must be a positive integer, not ${String(limit)}`);
  return { prefix, after, before: firstNameAfterPrefix(prefix), limit };
}

/**
 * The least text greater than every text that begins with `prefix`: the prefix with its last code
 * point raised by one (`rights-request-` gives `rights-request.`). A last code point that cannot be
 * raised is dropped and the one before raised instead; none left means no upper bound.
 */
export function firstNameAfterPrefix(prefix: string): string | undefined {
  const codePoints = [...prefix].map((character) => character.codePointAt(0)!);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!;
    if (last < 0x10ffff) {
      // Surrogates are not characters: UTF-8 text holds none, so the next one after U+D7FF is U+E000.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return String.fromCodePoint(...codePoints, next);
    }
  }
  return undefined;
}

/**
 * Name order: code point order, which is the byte order of UTF-8 and so the order of the SQL
 * stores' keys. JavaScript's `<` compares UTF-16 units, which puts an emoji before `ｚ` (U+FF5A).
 */
export function compareStreamNames(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/** Whether `name` belongs on the page `range` describes (for stores that filter names themselves). */
export function isInStreamNameRange(name: string, range: StreamNameRange): boolean {
  return name.startsWith(range.prefix) && (range.after === undefined || compareStreamNames(name, range.after) > 0);
}
