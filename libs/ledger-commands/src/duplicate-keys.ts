import { fieldNameForMessage } from './field-names';
export const DUPLICATE_KEY_PROBLEM = 'is sent twice in one object: send each field once, as readers disagree on which value counts';

/**
 * The path of the first key that appears twice in one object of a JSON text (already known to be
 * valid JSON), or undefined. `JSON.parse` keeps the last value silently, while a gateway, a key
 * filter or a log reader may take the first: the ledger would then record another subject, type or
 * touchpoint than the one they checked. Walked with an explicit stack, so a deeply nested text
 * cannot overflow the call stack; keys are compared decoded (`"a"` and `"\u0061"` are one key).
 */
export function duplicateKeyIn(text: string): string | undefined {
  const frames: Frame[] = [];
  let pendingKey: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      const top = frames[frames.length - 1];
      if (top?.kind === 'object' && top.expectsKey) {
        const raw = text.slice(i, end + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return pathOf(top, key);
        top.keys.add(key);
        top.expectsKey = false;
        pendingKey = key;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      const parent = frames[frames.length - 1];
      const path = parent === undefined ? '' : parent.kind === 'object' ? pathOf(parent, pendingKey!) : `${parent.path}[${parent.index}]`;
      frames.push(char === '{' ? { kind: 'object', path, keys: new Set(), expectsKey: true } : { kind: 'array', path, index: 0 });
    } else if (char === '}' || char === ']') {
      frames.pop();
    } else if (char === ',') {
      const top = frames[frames.length - 1];
      if (top?.kind === 'object') top.expectsKey = true;
      else if (top?.kind === 'array') top.index += 1;
    }
  }
  return undefined;
}

type Frame = { kind: 'object'; path: string; keys: Set<string>; expectsKey: boolean } | { kind: 'array'; path: string; index: number };

const pathOf = (object: { path: string }, key: string): string => (object.path === '' ? fieldNameForMessage(key) : `${object.path}.${fieldNameForMessage(key)}`);

/** Index of the quote closing the string that opens at `start`. */
export function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
