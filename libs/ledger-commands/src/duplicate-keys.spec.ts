import fc from 'fast-check';
import { rawJsonProblems } from './raw-json';
import { fieldNameForMessage } from './field-names';

const duplicateKeyIn = (text: string) => rawJsonProblems(text, Infinity).duplicateKey;

describe('finding a key sent twice in one object', () => {
  it('names the key, with its path', () => {
    expect(duplicateKeyIn('{"type":"RestrictChannel","subjectId":"a","subjectId":"b"}')).toBe('subjectId');
    expect(duplicateKeyIn('{"capture":{"actor":{"kind":"subject","kind":"agent"}}}')).toBe('capture.actor.kind');
    expect(duplicateKeyIn('{"channels":[{"a":1},{"b":1,"b":2}]}')).toBe('channels[1].b');
  });

  it('compares keys as decoded, so an escaped spelling is the same key', () => {
    expect(duplicateKeyIn('{"subjectId":"a","subject\\u0049d":"b"}')).toBe('subjectId');
  });

  it('lets the same key appear in different objects, and in strings', () => {
    expect(duplicateKeyIn('{"a":{"id":1},"b":{"id":2},"c":[{"id":3},{"id":4}],"d":"{\\"a\\":1,\\"a\\":2}"}')).toBeUndefined();
    expect(duplicateKeyIn('"plain"')).toBeUndefined();
    expect(duplicateKeyIn('[1,{"a":"]"},{"a":"}"}]')).toBeUndefined();
  });

  it('walks a text nested far deeper than the call stack allows', () => {
    const depth = 100_000;
    expect(duplicateKeyIn(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)).toBeUndefined();
    expect(duplicateKeyIn(`${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}`)).toBeUndefined();
  });

  it('finds nothing in any text JSON.stringify writes, and the key whenever one is written twice', () =>
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 5 }), (value, key) => {
        const text = JSON.stringify(value);
        expect(duplicateKeyIn(text)).toBeUndefined();
        const twice = `{${JSON.stringify(key)}:${text},"other":[${text}],${JSON.stringify(key)}:0}`;
        expect(duplicateKeyIn(twice)).toBe(fieldNameForMessage(key));
      }),
      { numRuns: 500 },
    ));
});
