import { endOfString } from './duplicate-keys';
import { fieldNameForMessage } from './field-names';
import { BODY, type FieldProblem, nestedTooDeeply } from './request-validation';

/**
 * The problem `screenJson` would report for a JSON text nested deeper than `maxDepth`, found in one
 * pass over the raw text, before it is parsed; undefined when it is not that deep. `JSON.parse` and
 * `duplicateKeyIn` each spent most of a second on 2 MB of `[`, blocking every other request, only
 * for `screenJson` to refuse the result. Brackets inside strings (escapes honoured) do not count;
 * the text need not be valid JSON, parsing it comes next.
 */
export function tooDeepIn(text: string, maxDepth: number): FieldProblem | undefined {
  const open: Container[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      const top = open[open.length - 1];
      if (top?.isObject && top.expectsKey) {
        top.key = text.slice(i, end + 1);
        top.expectsKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      if (open.length >= maxDepth) return { field: pathInto(open) || BODY, message: nestedTooDeeply(maxDepth) };
      open.push({ isObject: char === '{', expectsKey: char === '{', key: '""', index: 0 });
    } else if (char === '}' || char === ']') {
      open.pop();
    } else if (char === ',') {
      const top = open[open.length - 1];
      if (top?.isObject) top.expectsKey = true;
      else if (top) top.index += 1;
    }
  }
  return undefined;
}

/** `key` is the raw JSON string of the object's current key, quotes included; decoded only for a path. */
type Container = { isObject: boolean; expectsKey: boolean; key: string; index: number };

/** The path `screenJson` gives the value inside the innermost open container, built once. */
function pathInto(open: readonly Container[]): string {
  let path = '';
  for (const container of open) {
    if (!container.isObject) path = `${path}[${container.index}]`;
    else {
      const key = fieldNameForMessage(decodedKey(container.key));
      path = path === '' ? key : `${path}.${key}`;
    }
  }
  return path;
}

function decodedKey(raw: string): string {
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
