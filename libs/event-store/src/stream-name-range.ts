import type { EventStore, ListStreamNamesOptions } from './event-store.port';

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

/**
 * For a store with no index of names, where finding them is a scan of the whole log (KurrentDB):
 * the names one scan found for a prefix, so that the pages of one walk through them (the retention
 * job's, 1,000 subjects a page) cost one scan, not one each. A walk sees the streams as they were
 * at its first page, less those removed since (`isRemoved`); a stream begun after its first page
 * is left to the next walk, as the retention job's next run. It holds every name of the prefix
 * meanwhile (for ten million subjects, a gigabyte or so, what following the log cost before),
 * and lets go of them once it gave its last page.
 */
export class StreamNameWalk {
  private names: readonly string[] = [];
  private prefix: string | undefined;

  /** Starts a walk: every name of `range.prefix` a scan found, in any order; gives the page `range` asks. */
  start(range: StreamNameRange, found: Iterable<string>, isRemoved: (name: string) => boolean): string[] {
    this.names = [...found].sort(compareStreamNames);
    this.prefix = range.prefix;
    const from = range.after === undefined ? 0 : this.firstAtOrAfter(range.after);
    return this.pageFrom(range.after !== undefined && this.names[from] === range.after ? from + 1 : from, range.limit, isRemoved);
  }

  /** The page after `range.after` in the walk under way, or undefined when no walk of this prefix ended a page there. */
  continued(range: StreamNameRange, isRemoved: (name: string) => boolean): string[] | undefined {
    if (this.prefix !== range.prefix || range.after === undefined) return undefined;
    const at = this.firstAtOrAfter(range.after);
    return this.names[at] === range.after ? this.pageFrom(at + 1, range.limit, isRemoved) : undefined;
  }

  private pageFrom(from: number, limit: number, isRemoved: (name: string) => boolean): string[] {
    const page: string[] = [];
    for (let at = from; at < this.names.length && page.length < limit; at += 1) {
      if (!isRemoved(this.names[at])) page.push(this.names[at]);
    }
    // The last page ends the walk: holding every subject's name (a gigabyte for ten million) until
    // the next run would keep it in the process for good, and a page asked after it later has to
    // see the streams begun since, which only a new scan finds.
    if (page.length < limit) this.forget();
    return page;
  }

  private forget(): void {
    this.names = [];
    this.prefix = undefined;
  }

  private firstAtOrAfter(name: string): number {
    let low = 0;
    let high = this.names.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareStreamNames(this.names[middle], name) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * Every name of `prefix`, a page of `pageSize` at a time, each page asked after the last name of
 * the one before (`listStreamNames`), until a page comes back short.
 */
export async function* streamNamePages(store: Pick<EventStore, 'listStreamNames'>, prefix: string, pageSize: number): AsyncGenerator<string[]> {
  for (let after: string | undefined; ; ) {
    const names = await store.listStreamNames({ prefix, after, limit: pageSize });
    if (names.length > 0) yield names;
    if (names.length < pageSize) return;
    after = names[names.length - 1];
  }
}
