import { isUtf8 } from 'node:buffer';
import { fieldNameForMessage } from './field-names';
import { BODY, type FieldProblem, nestedTooDeeply } from './request-validation';

export const DUPLICATE_KEY_PROBLEM = 'is sent twice in one object: send each field once, as readers disagree on which value counts';

/** What one pass over a JSON text, before it is parsed, finds wrong with it. */
export interface RawJsonProblems {
  /**
   * The problem `screenJson` would report for nesting deeper than `maxDepth`: `JSON.parse` spent
   * most of a second on 2 MB of `[`, blocking every other request, only for `screenJson` to
   * refuse the result. When set, the scan stopped there and `duplicateKey` is not looked for.
   */
  readonly tooDeep?: FieldProblem;
  /**
   * The path of the first key that appears twice in one object. `JSON.parse` keeps the last value
   * silently, while a gateway, a key filter or a log reader may take the first: the ledger would
   * then record another subject, type or touchpoint than the one they checked. Keys are compared
   * decoded (`"a"` and `"\u0061"` are one key). Meaningful for a text that parses.
   */
  readonly duplicateKey?: string;
}

/** A JSON text as every edge reads it: its value, or the one problem its sender is told. */
export type ReadJson = { readonly json: unknown } | { readonly problem: FieldProblem };

export const NOT_UTF8_PROBLEM = 'must be encoded as UTF-8, as JSON is (RFC 8259): it holds bytes that are not, such as text in ISO-8859-1 or Windows-1252';
export const BYTE_ORDER_MARK_PROBLEM = 'must not start with a byte order mark (U+FEFF): send the JSON text alone';

/**
 * Reads a JSON body as it arrived, in bytes (an HTTP body, a Kafka message's value), as UTF-8
 * whatever charset it was labelled with. Bytes that are not UTF-8 are refused: decoded leniently,
 * each became U+FFFD, and a name written in Latin-1 ("Renée") was sealed and recorded mangled, with
 * a 201. A byte order mark (Windows PowerShell's UTF-8 files start with one) is refused by name:
 * `JSON.parse` reported it as an unexpected token the message showed as nothing.
 */
export function readJsonBytes(bytes: Buffer, maxDepth: number, syntaxMessage?: (error: Error) => string): ReadJson {
  if (!isUtf8(bytes)) return { problem: { field: BODY, message: NOT_UTF8_PROBLEM } };
  const text = bytes.toString('utf8');
  if (text.startsWith('\uFEFF')) return { problem: { field: BODY, message: BYTE_ORDER_MARK_PROBLEM } };
  return readJsonText(text, maxDepth, syntaxMessage);
}

/**
 * Reads a JSON text sent to the ledger (an HTTP body, a command or a question on Kafka): nesting
 * too deep is refused before parsing, then a syntax error (in the caller's words, `syntaxMessage`),
 * then a key sent twice in one object.
 */
export function readJsonText(text: string, maxDepth: number, syntaxMessage: (error: Error) => string = () => 'must be JSON'): ReadJson {
  const { tooDeep, duplicateKey } = rawJsonProblems(text, maxDepth);
  if (tooDeep !== undefined) return { problem: tooDeep };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problem: { field: BODY, message: syntaxMessage(error as Error) } };
  }
  if (duplicateKey !== undefined) return { problem: { field: duplicateKey, message: DUPLICATE_KEY_PROBLEM } };
  return { json };
}

/**
 * Walks the raw text once, with an explicit stack (a deeply nested text cannot overflow the call
 * stack); brackets and keys inside strings do not count, escapes honoured. The text need not be
 * valid JSON: parsing it comes next, and its syntax error is the answer before a duplicate key.
 */
export function rawJsonProblems(text: string, maxDepth: number): RawJsonProblems {
  const open: Container[] = [];
  let duplicateKey: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      const top = open[open.length - 1];
      if (top?.keys && top.expectsKey) {
        top.key = decodedKey(text.slice(i, end + 1));
        if (duplicateKey === undefined && top.keys.has(top.key)) duplicateKey = pathInto(open);
        top.keys.add(top.key);
        top.expectsKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      if (open.length >= maxDepth) return { tooDeep: { field: pathInto(open) || BODY, message: nestedTooDeeply(maxDepth) } };
      open.push(char === '{' ? { keys: new Set(), expectsKey: true, key: '', index: 0 } : { expectsKey: false, key: '', index: 0 });
    } else if (char === '}' || char === ']') {
      open.pop();
    } else if (char === ',') {
      const top = open[open.length - 1];
      if (top?.keys) top.expectsKey = true;
      else if (top) top.index += 1;
    }
  }
  return duplicateKey === undefined ? {} : { duplicateKey };
}

/** An open object (with the keys seen in it and its current key) or array (with its current index). */
type Container = { keys?: Set<string>; expectsKey: boolean; key: string; index: number };

/** The path `screenJson` gives the value at the current key or index of the innermost open container, built only when one is reported. */
function pathInto(open: readonly Container[]): string {
  let path = '';
  for (const container of open) {
    if (!container.keys) path = `${path}[${container.index}]`;
    else {
      const key = fieldNameForMessage(container.key);
      path = path === '' ? key : `${path}.${key}`;
    }
  }
  return path;
}

/** Index of the quote closing the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}

/** A key as `JSON.parse` reads it; a broken escape (the text does not parse) is kept as written. */
function decodedKey(raw: string): string {
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
